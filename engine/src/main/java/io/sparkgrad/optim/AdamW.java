package io.sparkgrad.optim;

import io.sparkgrad.Tensor;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter): {@code torch.optim.AdamW} of PyTorch
 * 1.13. Each update first shrinks the parameter, {@code p = p * (1 - lr * weight_decay)}, then
 * applies {@link Adam}'s update to it with the raw gradient, so the decay never enters the
 * moment estimates. The default weight decay is 0.01; the options are {@link Adam.Options}.
 */
public final class AdamW extends Optimizer {
    private static final Map<String, Object> DEFAULTS = Adam.classDefaults(1e-2);

    public AdamW(List<? extends Tensor> params, double lr) {
        this(params, new Adam.Options().lr(lr));
    }

    public AdamW(List<? extends Tensor> params, Adam.Options options) {
        this(options, oneGroup(params));
    }

    /** Several parameter groups; options a group does not set come from {@code options}. */
    public AdamW(Adam.Options options, List<ParamGroup> groups) {
        super("AdamW", DEFAULTS, options.values, groups);
    }

    @Override
    protected void validate(ParamGroup g) {
        Adam.check(g);
    }

    @Override
    protected Set<String> stateBufferNames() {
        return Adam.BUFFERS;
    }

    @Override
    protected void update(Tensor param, Tensor grad, ParamState state, ParamGroup group) {
        Adam.update(param, grad, state, group, true);
    }
}
