package io.sparkgrad.data;

import io.sparkgrad.DType;
import io.sparkgrad.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The real Fashion-MNIST files from Debian's {@code dataset-fashion-mnist} package read as the
 * dataset is documented: 60000 training and 10000 test images of 28x28, ten balanced classes.
 */
class FashionMnistTest {
    static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");

    @BeforeAll
    static void requireTheDebianPackage() {
        assumeTrue(Files.isRegularFile(DIR.resolve("train-images-idx3-ubyte.gz")),
                "skipped: Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist puts it in " + DIR + ")");
    }

    private static void checkSplit(String prefix, int count, long[] firstLabels, long pixelSum) throws IOException {
        Tensor images = IdxReader.readImages(DIR.resolve(prefix + "-images-idx3-ubyte.gz"));
        Tensor labels = IdxReader.readLabels(DIR.resolve(prefix + "-labels-idx1-ubyte.gz"));
        assertEquals(DType.FLOAT32, images.dtype());
        assertArrayEquals(new int[] {count, 28, 28}, images.shape());
        assertEquals(DType.INT64, labels.dtype());
        assertArrayEquals(new int[] {count}, labels.shape());

        float[] pixels = images.toFloatArray();
        long sum = 0;
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float p : pixels) {
            min = Math.min(min, p);
            max = Math.max(max, p);
            sum += Math.round(p * 255f);
        }
        assertEquals(0f, min, "darkest pixel");
        assertEquals(1f, max, "brightest pixel");
        assertEquals(pixelSum, sum, "sum of all raw pixel values");

        long[] l = labels.toLongArray();
        long[] perClass = new long[10];
        for (long label : l) {
            if (label < 0 || label > 9) {
                fail("label outside 0..9: " + label);
            }
            perClass[(int) label]++;
        }
        long[] balanced = new long[10];
        Arrays.fill(balanced, count / 10);
        assertArrayEquals(balanced, perClass, "Fashion-MNIST has the same number of examples in every class");
        long[] head = new long[firstLabels.length];
        System.arraycopy(l, 0, head, 0, head.length);
        assertArrayEquals(firstLabels, head);
    }

    @Test
    void trainingSetHas60000ImagesOf28x28AndBalancedLabels() throws IOException {
        checkSplit("train", 60_000, new long[] {9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, 3_431_114_169L);
    }

    @Test
    void testSetHas10000ImagesOf28x28AndBalancedLabels() throws IOException {
        checkSplit("t10k", 10_000, new long[] {9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, 573_469_082L);
    }

    @Test
    void rawPixelsReadAsTheBytesInTheFile() throws IOException {
        Tensor raw = IdxReader.read(DIR.resolve("t10k-images-idx3-ubyte.gz"), DType.INT64);
        long firstImage = 0;
        long[] v = raw.toLongArray();
        for (int i = 0; i < 28 * 28; i++) {
            firstImage += v[i];
        }
        assertEquals(0, Arrays.stream(v).filter(p -> p < 0 || p > 255).count(), "pixels outside 0..255");
        assertEquals(33_456, firstImage, "sum of the first test image's pixels");
    }
}
