package io.sparkgrad.spark.ml;

import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensors;
import io.sparkgrad.io.SafeTensorsFormatException;
import io.sparkgrad.nn.Module;
import io.sparkgrad.nn.StateDictException;
import io.sparkgrad.spark.train.SerializableSupplier;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.ChecksumException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * A model's weights as one immutable {@code byte[]} in safetensors format: what a model holds,
 * what is broadcast to executors, and what is written to {@code data/weights.safetensors}. Bytes
 * rather than tensors keep models {@code Serializable} and make the saved file and the broadcast
 * the same thing.
 */
final class Weights {
    /** The weights file under a saved model's path. */
    static final String FILE = "data/weights.safetensors";

    private Weights() {
    }

    /** The state dict (and string metadata) as safetensors bytes. */
    static byte[] encode(Map<String, Tensor> state, Map<String, String> metadata) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            // Sorted: the header lists metadata in the map's order, and Map.of's order changes from
            // JVM to JVM, so the same weights would otherwise give different bytes in another JVM.
            SafeTensors.write(state, new TreeMap<>(metadata), out);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding a state dict as safetensors", e);
        }
        return out.toByteArray();
    }

    /** Parses safetensors bytes; {@code source} names them in errors. */
    static SafeTensors.Contents decode(byte[] bytes, String source) throws SafeTensorsFormatException {
        try {
            return SafeTensors.read(new ByteArrayInputStream(bytes), bytes.length, source);
        } catch (SafeTensorsFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array stream does not fail
        }
    }

    /**
     * A network from {@code factory} holding the weights {@code bytes}, in evaluation mode.
     *
     * @throws IllegalArgumentException when the bytes are not safetensors or do not fit the network,
     *                                  naming {@code source}
     */
    static Module build(SerializableSupplier<? extends Module> factory, byte[] bytes, String source) {
        SafeTensors.Contents contents;
        try {
            contents = decode(bytes, source);
        } catch (SafeTensorsFormatException e) {
            throw new IllegalArgumentException(source + " is not a valid safetensors file: " + e.getMessage(), e);
        }
        return build(factory, contents.tensors(), source);
    }

    /**
     * A network from {@code factory} holding {@code tensors}, already decoded, in evaluation mode.
     *
     * @throws IllegalArgumentException when they do not fit the network, naming {@code source}
     */
    static Module build(SerializableSupplier<? extends Module> factory, Map<String, Tensor> tensors, String source) {
        Module net = factory.get();
        if (net == null) {
            throw new IllegalStateException("the network factory " + factory + " returned null");
        }
        try {
            net.loadStateDict(tensors);
        } catch (StateDictException e) {
            throw new IllegalArgumentException("the weights in " + source + " do not fit the network "
                    + net.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
        net.eval();
        return net;
    }

    /**
     * Writes {@code bytes} to {@code file} on its Hadoop file system: first to a temporary file next to
     * it, then renamed into place, so a failure leaves no half-written weights behind.
     */
    static void write(byte[] bytes, Path file, Configuration conf) throws IOException {
        FileSystem fs = file.getFileSystem(conf);
        Path tmp = new Path(file.getParent(), "." + file.getName() + ".tmp-" + System.nanoTime());
        fs.mkdirs(file.getParent());
        try {
            try (FSDataOutputStream out = fs.create(tmp, false)) {
                out.write(bytes);
                out.hsync();
            }
            if (fs.exists(file) && !fs.delete(file, false)) {
                throw new IOException("cannot replace " + file);
            }
            if (!fs.rename(tmp, file)) {
                throw new IOException("cannot rename " + tmp + " to " + file);
            }
        } finally {
            if (fs.exists(tmp)) {
                fs.delete(tmp, false);
            }
        }
    }

    /**
     * Reads the weights file {@code file} and checks that it is well-formed safetensors.
     *
     * @throws IllegalArgumentException naming the file when it is missing, too large or corrupt
     */
    static byte[] read(Path file, Configuration conf) throws IOException {
        FileSystem fs = file.getFileSystem(conf);
        FileStatus status;
        try {
            status = fs.getFileStatus(file);
        } catch (FileNotFoundException e) {
            throw new IllegalArgumentException("the weights file " + file + " does not exist (not a Sparkgrad model "
                    + "directory, or an incomplete copy of one)", e);
        }
        long length = status.getLen();
        if (length > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("the weights file " + file + " is " + length
                    + " bytes; models over 2 GiB are not supported");
        }
        byte[] bytes = new byte[(int) length];
        try (FSDataInputStream in = fs.open(file)) {
            in.readFully(0, bytes);
        } catch (ChecksumException e) {
            throw new IllegalArgumentException("the weights file " + file + " is corrupt: its bytes do not match the "
                    + "file system's checksum (" + e.getMessage() + ")", e);
        }
        try {
            decode(bytes, file.toString());
        } catch (SafeTensorsFormatException e) {
            throw new IllegalArgumentException("the weights file " + file + " is corrupt: " + e.getMessage(), e);
        }
        return bytes;
    }
}
