// Strided copies between any two of float, double and long (dtype conversion included), and fills.
// Built once per context; the double kernels only where the device has cl_khr_fp64.

#ifdef SG_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif

// sg_offset and SG_UNPACK come from strided.cl, which ClContext puts first.

#define SG_COPY(NAME, TS, TD) \
__kernel void NAME(__global const TS* s, int so, int8 ss8, __global TD* d, int doff, int8 ds8, \
        int8 shape8, int rank, int n) { \
    int i = get_global_id(0); \
    if (i >= n) return; \
    SG_UNPACK(shape8, shape); \
    SG_UNPACK(ss8, sst); \
    SG_UNPACK(ds8, dst); \
    d[doff + sg_offset(i, shape, dst, rank)] = (TD) s[so + sg_offset(i, shape, sst, rank)]; \
}

#define SG_FILL(NAME, TD) \
__kernel void NAME(__global TD* d, int doff, int8 ds8, int8 shape8, int rank, int n, TD value) { \
    int i = get_global_id(0); \
    if (i >= n) return; \
    SG_UNPACK(shape8, shape); \
    SG_UNPACK(ds8, dst); \
    d[doff + sg_offset(i, shape, dst, rank)] = value; \
}

SG_COPY(copy_float_float, float, float)
SG_COPY(copy_float_long, float, long)
SG_COPY(copy_long_float, long, float)
SG_COPY(copy_long_long, long, long)
SG_FILL(fill_float, float)
SG_FILL(fill_long, long)
#ifdef SG_FP64
SG_COPY(copy_double_double, double, double)
SG_COPY(copy_double_float, double, float)
SG_COPY(copy_float_double, float, double)
SG_COPY(copy_double_long, double, long)
SG_COPY(copy_long_double, long, double)
SG_FILL(fill_double, double)
#endif
