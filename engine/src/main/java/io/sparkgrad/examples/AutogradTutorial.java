package io.sparkgrad.examples;

import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.functional.F;

/**
 * PyTorch's "Automatic differentiation with torch.autograd" tutorial, line by line in Sparkgrad.
 * Run it with {@code mvn -q -pl engine exec:java} (see README).
 */
public final class AutogradTutorial {
    private AutogradTutorial() {
    }

    public static void main(String[] args) {
        Tensor.manualSeed(0);
        Tensor x = Tensor.ones(5);                   // input tensor
        Tensor y = Tensor.zeros(3);                  // expected output
        Tensor w = Tensor.randn(5, 3).requiresGrad_();
        Tensor b = Tensor.randn(3).requiresGrad_();
        Tensor z = x.matmul(w).add(b);
        Tensor loss = F.binaryCrossEntropyWithLogits(z, y);

        System.out.println("Gradient function for z = " + z.gradFn());
        System.out.println("Gradient function for loss = " + loss.gradFn());

        loss.backward();
        System.out.println(w.grad());
        System.out.println(b.grad());

        z = x.matmul(w).add(b);
        System.out.println(z.requiresGrad());
        try (var g = GradMode.noGrad()) {
            z = x.matmul(w).add(b);
        }
        System.out.println(z.requiresGrad());

        z = x.matmul(w).add(b);
        Tensor zDet = z.detach();
        System.out.println(zDet.requiresGrad());

        Tensor inp = Tensor.eye(5).requiresGrad_();
        Tensor out = inp.add(1).pow(2);
        out.backward(Tensor.onesLike(inp), true);
        System.out.println("First call\n" + inp.grad());
        out.backward(Tensor.onesLike(inp), true);
        System.out.println("\nSecond call\n" + inp.grad());
        inp.grad().zero_();
        out.backward(Tensor.onesLike(inp), true);
        System.out.println("\nCall after zeroing gradients\n" + inp.grad());
    }
}
