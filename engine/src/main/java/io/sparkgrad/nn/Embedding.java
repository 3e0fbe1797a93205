package io.sparkgrad.nn;

import io.sparkgrad.DType;
import io.sparkgrad.Generator;
import io.sparkgrad.Tensor;
import io.sparkgrad.autograd.GradMode;
import io.sparkgrad.functional.F;

/**
 * A lookup table of {@code numEmbeddings} vectors of size {@code embeddingDim}
 * ({@code torch.nn.Embedding}): int64 indices of any shape in, {@code indices.shape + [embeddingDim]}
 * out. The weight starts standard normal, as PyTorch's; the optional {@code paddingIdx} row starts at
 * zero and never receives a gradient.
 */
public class Embedding extends Module {
    private final int numEmbeddings;
    private final int embeddingDim;
    private final long paddingIdx;

    public Embedding(int numEmbeddings, int embeddingDim) {
        this(numEmbeddings, embeddingDim, -1, Generator.defaultGenerator());
    }

    /** {@code paddingIdx} negative for none (negative indices are not wrapped here, unlike PyTorch's argument). */
    public Embedding(int numEmbeddings, int embeddingDim, long paddingIdx, Generator gen) {
        if (paddingIdx >= numEmbeddings) {
            throw new IllegalArgumentException("Embedding: padding_idx " + paddingIdx + " must be within num_embeddings "
                    + numEmbeddings);
        }
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        this.paddingIdx = paddingIdx;
        Parameter w = registerParameter("weight", new Parameter(Tensor.empty(DType.FLOAT32, numEmbeddings, embeddingDim)));
        Init.normal_(w, 0, 1, gen);
        if (paddingIdx >= 0) {
            try (var g = GradMode.noGrad()) {
                w.select(0, (int) paddingIdx).fill_(0);
            }
        }
    }

    public Parameter weight() {
        return parameter("weight");
    }

    @Override
    public Tensor forward(Tensor indices) {
        return F.embedding(indices, weight(), paddingIdx);
    }

    @Override
    protected String extraRepr() {
        return numEmbeddings + ", " + embeddingDim + (paddingIdx >= 0 ? ", padding_idx=" + paddingIdx : "");
    }
}
