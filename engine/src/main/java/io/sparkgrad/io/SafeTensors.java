package io.sparkgrad.io;

import io.sparkgrad.DType;
import io.sparkgrad.Storage;
import io.sparkgrad.Tensor;
import io.sparkgrad.io.SafeTensorsHeader.Entry;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Tensors to and from the <a href="https://github.com/huggingface/safetensors">safetensors</a>
 * format, so a Sparkgrad model moves to and from PyTorch and checkpoints can be loaded from files
 * nobody vouches for.
 *
 * <p>The layout is an 8-byte little-endian header length {@code N}, {@code N} bytes of UTF-8 JSON
 * ({@code {"name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...,
 * "__metadata__": {"key": "value"}}}, padded with spaces to a multiple of 8) and then the raw
 * little-endian tensor data, offsets counted from the end of the header.
 *
 * <p>Reading never runs code and never trusts a length: the header length is capped and checked
 * against the file size, every entry's dtype, shape and offsets are checked against each other and
 * against the data section before anything is allocated, and a truncated or corrupt file raises a
 * {@link SafeTensorsFormatException} naming the file, the tensor and the byte offset. From a stream
 * whose length is unknown, arrays grow only as bytes actually arrive.
 *
 * <p>{@link #save} is atomic: it writes a temporary file next to the target, forces it to disk and
 * renames it over the target, so a crash or a failure part-way leaves the previous file intact.
 *
 * <pre>{@code
 * SafeTensors.save(Map.of("fc.weight", w, "fc.bias", b), Map.of("format", "pt"), Path.of("model.safetensors"));
 * SafeTensors.Contents c = SafeTensors.load(Path.of("model.safetensors"));
 * Tensor w2 = c.tensors().get("fc.weight");
 * }</pre>
 */
public final class SafeTensors {
    /** Bytes moved per read or write call; a multiple of every item size. */
    private static final int CHUNK_BYTES = 1 << 16;

    private SafeTensors() {
    }

    /**
     * What a file holds: its tensors in the order its header lists them (each over its own fresh
     * contiguous storage) and its {@code __metadata__} strings.
     */
    public record Contents(Map<String, Tensor> tensors, Map<String, String> metadata) {
        public Contents {
            tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
            metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
        }
    }

    // ------------------------------------------------------------------ writing

    /** {@link #save(Map, Map, Path)} with no metadata. */
    public static void save(Map<String, Tensor> tensors, Path file) throws IOException {
        save(tensors, Map.of(), file);
    }

    /**
     * Writes {@code tensors} (in the map's iteration order) and {@code metadata} to {@code file},
     * atomically: the data goes to a temporary file in the same directory, which is forced to disk
     * and then renamed over {@code file}. If anything fails, the temporary file is removed and
     * whatever {@code file} held before is untouched.
     *
     * @throws IllegalArgumentException for a null or reserved ({@code __metadata__}) name, a null
     *                                  tensor or metadata entry, before any file is created
     */
    public static void save(Map<String, Tensor> tensors, Map<String, String> metadata, Path file) throws IOException {
        Plan plan = plan(tensors, metadata);
        Path target = file.toAbsolutePath();
        Path directory = target.getParent();
        Path temporary = createSibling(target);
        try {
            try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(channel);
                plan.writeTo(out);
                channel.force(true);
            }
            Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException | Error e) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
        forceDirectory(directory);
    }

    /**
     * Writes {@code tensors} and {@code metadata} in safetensors format to {@code out}, for file
     * systems {@link #save} cannot reach (HDFS, object stores) that have their own way to commit a
     * file. The stream is not closed.
     */
    public static void write(Map<String, Tensor> tensors, Map<String, String> metadata, OutputStream out)
            throws IOException {
        plan(tensors, metadata).writeTo(out);
    }

    /** The checked header and the tensors to write after it, so nothing is written for bad arguments. */
    private record Plan(SafeTensorsHeader header, List<Tensor> tensors) {
        void writeTo(OutputStream out) throws IOException {
            byte[] json = header.encode();
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            chunk.putLong(json.length);
            out.write(chunk.array(), 0, Long.BYTES);
            out.write(json);
            for (Tensor t : tensors) {
                writeData(t, out, chunk);
            }
            out.flush();
        }
    }

    private static Plan plan(Map<String, Tensor> tensors, Map<String, String> metadata) {
        Objects.requireNonNull(tensors, "tensors");
        Objects.requireNonNull(metadata, "metadata");
        Map<String, String> meta = new LinkedHashMap<>();
        for (Map.Entry<String, String> m : metadata.entrySet()) {
            if (m.getKey() == null || m.getValue() == null) {
                throw new IllegalArgumentException("metadata entries must not be null: " + m.getKey() + " -> "
                        + m.getValue());
            }
            meta.put(m.getKey(), m.getValue());
        }
        List<Entry> entries = new ArrayList<>();
        List<Tensor> data = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            Tensor t = e.getValue();
            if (name == null) {
                throw new IllegalArgumentException("a tensor name is null");
            }
            if (SafeTensorsHeader.METADATA_KEY.equals(name)) {
                throw new IllegalArgumentException("'" + name + "' is reserved for the file's metadata; "
                        + "pass metadata separately");
            }
            if (t == null) {
                throw new IllegalArgumentException("tensor '" + name + "' is null");
            }
            if (SafeTensorsHeader.code(t.dtype()) == null) {
                throw new IllegalArgumentException("tensor '" + name + "' has dtype " + t.dtype()
                        + ", which Sparkgrad cannot write as safetensors");
            }
            long bytes = (long) t.numel() * t.dtype().byteSize();
            entries.add(new Entry(name, t.dtype(), t.shape(), offset, offset + bytes, -1));
            data.add(t);
            offset += bytes;
        }
        return new Plan(new SafeTensorsHeader(entries, meta), data);
    }

    private static void writeData(Tensor t, OutputStream out, ByteBuffer chunk) throws IOException {
        Tensor c = t.contiguousData();
        Storage s = c.storage();
        int base = c.storageOffset();
        int n = c.numel();
        int item = c.dtype().byteSize();
        int perChunk = CHUNK_BYTES / item;
        for (int done = 0; done < n; ) {
            int count = Math.min(perChunk, n - done);
            chunk.clear();
            switch (c.dtype()) {
                case FLOAT32: chunk.asFloatBuffer().put(s.floats(), base + done, count); break;
                case FLOAT64: chunk.asDoubleBuffer().put(s.doubles(), base + done, count); break;
                case INT64: chunk.asLongBuffer().put(s.longs(), base + done, count); break;
                default: throw new IllegalStateException("no safetensors encoding for " + c.dtype());
            }
            out.write(chunk.array(), 0, count * item);
            done += count;
        }
    }

    /** A new empty file next to {@code target}, hidden, with a name no concurrent save will pick. */
    private static Path createSibling(Path target) throws IOException {
        Path directory = target.getParent();
        String base = "." + target.getFileName() + ".";
        for (int attempt = 0; ; attempt++) {
            Path candidate = directory.resolve(base + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.newByteChannel(candidate, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return candidate;
            } catch (FileAlreadyExistsException taken) {
                if (attempt == 9) {
                    throw taken;
                }
            }
        }
    }

    /**
     * Makes the rename itself durable. Best effort: some platforms (Windows) cannot open a directory;
     * the new file is complete either way, only its survival of a power cut is at stake.
     */
    private static void forceDirectory(Path directory) {
        try (FileChannel d = FileChannel.open(directory, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException unsupported) {
            // see Javadoc: nothing is lost that the caller could act on
        }
    }

    // ------------------------------------------------------------------ reading

    /** Reads a safetensors file; every length and offset is checked against its size before allocating. */
    public static Contents load(Path file) throws IOException {
        long size = Files.size(file);
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, size, file.toString());
        }
    }

    /**
     * Reads safetensors from a stream of unknown length (arrays grow only as data arrives, so a lying
     * header costs no memory). The stream must end where the last tensor's data ends; it is not
     * closed.
     *
     * @param source the name used in error messages, e.g. the file's URI
     */
    public static Contents read(InputStream in, String source) throws IOException {
        return read(in, -1, source);
    }

    /**
     * Reads safetensors from a stream of {@code length} bytes (a file on HDFS or an object store,
     * whose size its file system reports): as for {@link #load}, all lengths and offsets are
     * checked against {@code length} before anything is allocated. A negative length means unknown.
     */
    public static Contents read(InputStream in, long length, String source) throws IOException {
        Objects.requireNonNull(in, "in");
        byte[] prefix = in.readNBytes(Long.BYTES);
        if (prefix.length < Long.BYTES || (length >= 0 && length < Long.BYTES)) {
            long size = length >= 0 ? length : prefix.length;
            throw new SafeTensorsFormatException(source, null, Math.min(size, prefix.length), "the file is " + size
                    + " bytes long, too short for the 8-byte header length (empty or truncated file?)");
        }
        long headerLength = ByteBuffer.wrap(prefix).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (headerLength < 0 || headerLength > SafeTensorsHeader.MAX_HEADER_BYTES) {
            throw new SafeTensorsFormatException(source, null, 0, "header length " + Long.toUnsignedString(headerLength)
                    + " is more than the limit of " + SafeTensorsHeader.MAX_HEADER_BYTES
                    + " bytes (not a safetensors file, or a corrupt one)");
        }
        if (length >= 0 && headerLength > length - Long.BYTES) {
            throw new SafeTensorsFormatException(source, null, 0, "header length " + headerLength
                    + " runs past the end of the file, which holds only " + (length - Long.BYTES)
                    + " bytes after the length (truncated or not a safetensors file?)");
        }
        byte[] json = in.readNBytes((int) headerLength);
        if (json.length < headerLength) {
            throw new SafeTensorsFormatException(source, null, Long.BYTES + json.length, "the file ends inside the "
                    + headerLength + "-byte header");
        }
        long dataStart = Long.BYTES + headerLength;
        long dataSize = length >= 0 ? length - dataStart : -1;
        SafeTensorsHeader header = SafeTensorsHeader.parse(json, dataSize, source);
        long dataEnd = header.dataEnd();
        if (dataSize >= 0 && dataSize != dataEnd) {
            throw new SafeTensorsFormatException(source, null, dataStart + dataEnd, (dataSize - dataEnd)
                    + " unexpected bytes after the end of the last tensor's data");
        }
        Map<String, Tensor> byName = readData(in, header, dataStart, dataSize >= 0, source);
        Map<String, Tensor> inHeaderOrder = new LinkedHashMap<>();
        for (Entry e : header.entries()) {
            inHeaderOrder.put(e.name(), byName.get(e.name()));
        }
        return new Contents(inHeaderOrder, header.metadata());
    }

    private static Map<String, Tensor> readData(InputStream in, SafeTensorsHeader header, long dataStart,
            boolean sizeChecked, String source) throws IOException {
        byte[] chunk = new byte[CHUNK_BYTES];
        Map<String, Tensor> tensors = new HashMap<>();
        long position = 0;
        for (Entry e : header.entriesByPosition()) {
            while (position < e.begin()) {
                int want = (int) Math.min(chunk.length, e.begin() - position);
                int got = in.readNBytes(chunk, 0, want);
                position += got;
                if (got < want) {
                    throw new SafeTensorsFormatException(source, e.name(), dataStart + position,
                            "the file ends before this tensor's data, which starts at byte offset "
                                    + (dataStart + e.begin()));
                }
            }
            tensors.put(e.name(), readTensor(in, e, dataStart, sizeChecked, chunk, source));
            position = Math.max(position, e.end());
        }
        if (in.read() != -1) {
            throw new SafeTensorsFormatException(source, null, dataStart + position,
                    "unexpected bytes after the end of the last tensor's data");
        }
        return tensors;
    }

    /**
     * One tensor's data. When the size has not been checked (a stream of unknown length) the array
     * starts at one chunk and grows as data arrives ({@link GrowingStorage}).
     */
    private static Tensor readTensor(InputStream in, Entry e, long dataStart, boolean sizeChecked, byte[] chunk,
            String source) throws IOException {
        int n = e.numel();
        int item = e.dtype().byteSize();
        int perChunk = chunk.length / item;
        GrowingStorage values = new GrowingStorage(e.dtype(), n, sizeChecked ? n : Math.min(n, perChunk));
        ByteBuffer bytes = ByteBuffer.wrap(chunk).order(ByteOrder.LITTLE_ENDIAN);
        for (int filled = 0; filled < n; ) {
            int count = Math.min(perChunk, n - filled);
            int got = in.readNBytes(chunk, 0, count * item);
            if (got < count * item) {
                throw new SafeTensorsFormatException(source, e.name(), dataStart + e.begin() + (long) filled * item + got,
                        "the file ends inside this tensor's data, which spans byte offsets [" + (dataStart + e.begin())
                                + ", " + (dataStart + e.end()) + ")");
            }
            values.reserve(filled + count);
            bytes.clear();
            switch (e.dtype()) {
                case FLOAT32: bytes.asFloatBuffer().get(values.floats(), filled, count); break;
                case FLOAT64: bytes.asDoubleBuffer().get(values.doubles(), filled, count); break;
                default: bytes.asLongBuffer().get(values.longs(), filled, count); break;
            }
            filled += count;
        }
        return values.toTensor(e.shape());
    }
}
