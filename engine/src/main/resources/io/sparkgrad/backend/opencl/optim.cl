// Optimizer updates in place on the device, built into the math program for T (see ClContext):
// the twins of io.sparkgrad.optim.SGD and Adam's loops, one work-item per element of contiguous
// parameter, gradient and state buffers. Each kernel turns contraction off so a * b + c rounds
// twice, as the JVM computes it, and the trajectories match the CPU's.

/**
 * SGD with momentum, dampening, Nesterov and weight decay, in T as the CPU computes it (float32
 * in float, float64 in double): g = sign * d (+ wd * p when addDecay); with a buffer,
 * b = first ? g : b * mu + keep * g and g = nesterov ? g + mu * b : b; then p = p - lr * g.
 */
__kernel void sgd_step(__global T* p, int po, __global const T* d, int doff, __global T* b, int bo, int n,
        T lr, T wd, int addDecay, T sign, T mu, T keep, int hasBuffer, int first, int nesterov) {
#pragma OPENCL FP_CONTRACT OFF
    int i = get_global_id(0);
    if (i >= n) return;
    T pi = p[po + i];
    T g = sign * d[doff + i];
    if (addDecay) {
        g = g + wd * pi;
    }
    if (hasBuffer) {
        T bi = first ? g : b[bo + i] * mu + keep * g;
        b[bo + i] = bi;
        g = nesterov ? g + mu * bi : bi;
    }
    p[po + i] = pi - lr * g;
}

// Adam computes in double, rounding once to T when storing, as the CPU loop does; a device
// without double precision computes in float.
#ifdef SG_FP64
#define SG_ACC double
#else
#define SG_ACC float
#endif

/**
 * Adam and AdamW (decoupled): g = maximize ? -d : d; p = p * decay (decoupled) or
 * g = g + wd * p; m = beta1 * m + (1 - beta1) * g; v = beta2 * v + (1 - beta2) * g * g, both
 * stored and read back; with amsgrad v = vmax = max(vmax, v) (NaN propagates);
 * p = p - stepSize * m / (sqrt(v) / bc2Sqrt + eps).
 */
__kernel void adam_step(__global T* p, int po, __global const T* d, int doff, __global T* m, int mo,
        __global T* v, int vo, __global T* vmax, int vmo, int amsgrad, int n,
        SG_ACC beta1, SG_ACC beta2, SG_ACC eps, SG_ACC wd, SG_ACC decay, SG_ACC stepSize, SG_ACC bc2Sqrt,
        int decoupled, int maximize) {
#pragma OPENCL FP_CONTRACT OFF
    int i = get_global_id(0);
    if (i >= n) return;
    SG_ACC g = maximize ? -(SG_ACC) d[doff + i] : (SG_ACC) d[doff + i];
    SG_ACC pi = p[po + i];
    if (decoupled) {
        pi = pi * decay;
    } else if (wd != 0) {
        g = g + wd * pi;
    }
    T ms = (T) (m[mo + i] * beta1 + ((SG_ACC) 1 - beta1) * g);
    T vs = (T) (v[vo + i] * beta2 + ((SG_ACC) 1 - beta2) * g * g);
    m[mo + i] = ms;
    v[vo + i] = vs;
    SG_ACC vi = vs;
    if (amsgrad) {
        SG_ACC prev = vmax[vmo + i];
        vi = isnan(prev) ? prev : isnan(vi) ? vi : fmax(prev, vi);
        vmax[vmo + i] = (T) vi;
    }
    SG_ACC denom = sqrt(vi) / bc2Sqrt + eps;
    p[po + i] = (T) (pi + -stepSize * (SG_ACC) ms / denom);
}

#undef SG_ACC
