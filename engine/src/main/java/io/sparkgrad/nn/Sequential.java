package io.sparkgrad.nn;

import io.sparkgrad.Tensor;

import java.util.List;

/**
 * Modules applied one after another ({@code torch.nn.Sequential}). Children are named
 * {@code "0"}, {@code "1"}, … in order, so state dict keys read {@code "0.weight"} as in PyTorch;
 * {@link #add(String, Module)} gives a child another name.
 */
public class Sequential extends Module {
    public Sequential(Module... modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    /** Appends {@code module} under the next index as its name. */
    public Sequential add(Module module) {
        return add(Integer.toString(size()), module);
    }

    /** Appends {@code module} under {@code name} (PyTorch's {@code OrderedDict} form). */
    public Sequential add(String name, Module module) {
        registerModule(name, module);
        return this;
    }

    /** The {@code index}-th module. */
    public Module get(int index) {
        List<Module> all = children();
        if (index < 0 || index >= all.size()) {
            throw new IndexOutOfBoundsException("index " + index + " is out of range for a Sequential of " + all.size()
                    + " modules");
        }
        return all.get(index);
    }

    public int size() {
        return children().size();
    }

    @Override
    public Tensor forward(Tensor input) {
        Tensor x = input;
        for (Module m : children()) {
            x = m.forward(x);
        }
        return x;
    }
}
