// Shared by every program (ClContext puts it first): how a kernel finds the i-th element of a
// strided view. Shapes and strides travel as int8 vectors (rank <= 8) and are unpacked to arrays.

/** Storage offset of the i-th element (row-major) of a tensor with this shape and these strides. */
inline int sg_offset(int i, const int* shape, const int* st, int rank) {
    int off = 0;
    for (int d = rank - 1; d >= 0; d--) {
        int c = i % shape[d];
        i /= shape[d];
        off += c * st[d];
    }
    return off;
}

#define SG_UNPACK(v, arr) int arr[8]; vstore8(v, 0, arr)
