package io.sparkgrad.io;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import io.sparkgrad.DType;
import io.sparkgrad.Shapes;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The JSON header of a safetensors file: which tensors it holds, their dtype, shape and where their
 * bytes lie in the data section, plus free-form string metadata. Parsing checks every field of
 * every entry with a streaming parser, so a hostile header can neither build deep object graphs nor
 * make the reader allocate more than the file can back; problems are reported with the file offset
 * of the offending JSON token.
 */
final class SafeTensorsHeader {
    static final String METADATA_KEY = "__metadata__";
    /** The same cap as the reference (Rust) implementation: a header this large is an attack or damage. */
    static final long MAX_HEADER_BYTES = 100_000_000L;
    /**
     * The most dimensions a tensor may have, PyTorch's limit: a shape of thousands of 1s is a
     * valid tensor of one element, but every stride, broadcast and printout pays for its rank.
     */
    static final int MAX_RANK = 64;
    /** The header's JSON starts after the 8-byte length prefix. */
    static final long JSON_START = 8;
    /** Writers pad the header with spaces so that the data section starts 8-byte aligned. */
    static final int ALIGNMENT = 8;

    private static final JsonFactory JSON = new JsonFactory();

    /** One tensor's entry; {@code headerOffset} is where its {@code data_offsets} stand in the file. */
    record Entry(String name, DType dtype, int[] shape, long begin, long end, long headerOffset) {
        int numel() {
            return Shapes.numel(shape);
        }
    }

    private final List<Entry> entries;
    private final Map<String, String> metadata;

    SafeTensorsHeader(List<Entry> entries, Map<String, String> metadata) {
        this.entries = List.copyOf(entries);
        this.metadata = metadata;
    }

    /** The entries in the order the header lists them. */
    List<Entry> entries() {
        return entries;
    }

    Map<String, String> metadata() {
        return metadata;
    }

    /** The safetensors code of a dtype, or null when the format has no code Sparkgrad writes for it. */
    static String code(DType dtype) {
        switch (dtype) {
            case FLOAT32: return "F32";
            case FLOAT64: return "F64";
            case INT64: return "I64";
            default: return null;
        }
    }

    private static DType dtypeOf(String code) {
        switch (code) {
            case "F32": return DType.FLOAT32;
            case "F64": return DType.FLOAT64;
            case "I64": return DType.INT64;
            default: return null;
        }
    }

    /** The end of the data section the entries need: the largest {@code end} offset (0 when empty). */
    long dataEnd() {
        long end = 0;
        for (Entry e : entries) {
            end = Math.max(end, e.end());
        }
        return end;
    }

    /** The entries sorted by where their data begins, the order a sequential reader meets them. */
    List<Entry> entriesByPosition() {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        return sorted;
    }

    // ------------------------------------------------------------------ writing

    /** The header bytes, UTF-8 JSON padded with spaces to a multiple of {@link #ALIGNMENT}. */
    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (JsonGenerator g = JSON.createGenerator(out, JsonEncoding.UTF8)) {
            g.writeStartObject();
            if (!metadata.isEmpty()) {
                g.writeFieldName(METADATA_KEY);
                g.writeStartObject();
                for (Map.Entry<String, String> m : metadata.entrySet()) {
                    g.writeStringField(m.getKey(), m.getValue());
                }
                g.writeEndObject();
            }
            for (Entry e : entries) {
                g.writeFieldName(e.name());
                g.writeStartObject();
                g.writeStringField("dtype", code(e.dtype()));
                g.writeFieldName("shape");
                g.writeArray(e.shape(), 0, e.shape().length);
                g.writeFieldName("data_offsets");
                g.writeArray(new long[] {e.begin(), e.end()}, 0, 2);
                g.writeEndObject();
            }
            g.writeEndObject();
        } catch (IOException impossible) {
            throw new UncheckedIOException("writing JSON to memory failed", impossible);
        }
        int padding = (ALIGNMENT - out.size() % ALIGNMENT) % ALIGNMENT;
        for (int i = 0; i < padding; i++) {
            out.write(' ');
        }
        return out.toByteArray();
    }

    // ------------------------------------------------------------------ reading

    /**
     * Parses and checks a header.
     *
     * @param json     the header bytes (without the length prefix)
     * @param dataSize the size of the data section when known (a file), or -1 (a stream): when known,
     *                 every tensor must lie inside it and it must end where the last tensor ends
     */
    static SafeTensorsHeader parse(byte[] json, long dataSize, String source) throws SafeTensorsFormatException {
        return new Parser(source, dataSize).parse(json);
    }

    /** One parse: the parser and the name of the entry being read, for error messages. */
    private static final class Parser {
        private final String source;
        private final long dataSize;
        private JsonParser p;
        private String current;

        Parser(String source, long dataSize) {
            this.source = source;
            this.dataSize = dataSize;
        }

        SafeTensorsHeader parse(byte[] json) throws SafeTensorsFormatException {
            List<Entry> entries = new ArrayList<>();
            Map<String, String> metadata = new LinkedHashMap<>();
            try (JsonParser parser = JSON.createParser(json)) {
                p = parser;
                JsonToken t = p.nextToken();
                if (t != JsonToken.START_OBJECT) {
                    throw fail("the header must be a JSON object, found " + describe(t));
                }
                Set<String> names = new HashSet<>();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    boolean isMetadata = METADATA_KEY.equals(name);
                    // metadata problems belong to no tensor; their messages say __metadata__
                    current = isMetadata ? null : name;
                    if (!names.add(name)) {
                        throw fail("duplicate name: the header lists '" + SafeTensorsFormatException.printable(name) + "' twice");
                    }
                    p.nextToken();
                    if (isMetadata) {
                        parseMetadata(metadata);
                    } else {
                        entries.add(parseEntry());
                    }
                }
                current = null;
                JsonToken after = p.nextToken();
                if (after != null) {
                    throw fail("unexpected content (" + describe(after) + ") after the header's JSON object");
                }
            } catch (JsonProcessingException e) {
                long at = e.getLocation() == null ? JSON_START : JSON_START + Math.max(0, e.getLocation().getByteOffset());
                throw new SafeTensorsFormatException(source, current, at,
                        "the header is not valid JSON: " + SafeTensorsFormatException.printable(e.getOriginalMessage()));
            } catch (SafeTensorsFormatException e) {
                throw e;
            } catch (IOException e) {
                // Jackson refuses bytes that are not text in any Unicode encoding before it reads a token
                throw new SafeTensorsFormatException(source, current, JSON_START, "the header is not UTF-8 JSON: "
                        + SafeTensorsFormatException.printable(e.getMessage()));
            }
            SafeTensorsHeader header = new SafeTensorsHeader(entries, metadata);
            checkLayout(header);
            return header;
        }

        private void parseMetadata(Map<String, String> metadata) throws IOException {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw fail(METADATA_KEY + " must be a JSON object of strings, found " + describe(p.currentToken()));
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String key = p.currentName();
                JsonToken value = p.nextToken();
                if (value != JsonToken.VALUE_STRING) {
                    throw fail(METADATA_KEY + " values must be strings, but '" + SafeTensorsFormatException.printable(key) + "' is " + describe(value));
                }
                if (metadata.put(key, p.getText()) != null) {
                    throw fail(METADATA_KEY + " lists '" + SafeTensorsFormatException.printable(key) + "' twice");
                }
            }
        }

        private Entry parseEntry() throws IOException {
            if (p.currentToken() != JsonToken.START_OBJECT) {
                throw fail("expected an object with dtype, shape and data_offsets, found " + describe(p.currentToken()));
            }
            long entryOffset = offset();
            DType dtype = null;
            int[] shape = null;
            long[] offsets = null;
            long offsetsAt = entryOffset;
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                p.nextToken();
                switch (field) {
                    case "dtype":
                        requireFirst(dtype, field);
                        dtype = parseDType();
                        break;
                    case "shape":
                        requireFirst(shape, field);
                        shape = parseShape();
                        break;
                    case "data_offsets":
                        requireFirst(offsets, field);
                        offsetsAt = offset();
                        offsets = parseOffsets();
                        break;
                    default:
                        throw fail("unknown field \"" + SafeTensorsFormatException.printable(field) + "\" (an entry has dtype, shape and data_offsets)");
                }
            }
            List<String> missing = new ArrayList<>();
            if (dtype == null) {
                missing.add("dtype");
            }
            if (shape == null) {
                missing.add("shape");
            }
            if (offsets == null) {
                missing.add("data_offsets");
            }
            if (!missing.isEmpty()) {
                throw new SafeTensorsFormatException(source, current, entryOffset, "the entry lacks " + missing);
            }
            long begin = offsets[0];
            long end = offsets[1];
            String span = "data_offsets [" + begin + ", " + end + "]";
            if (begin > end) {
                throw new SafeTensorsFormatException(source, current, offsetsAt, span + " end before they begin");
            }
            long needed = (long) numel(shape, entryOffset) * dtype.byteSize();
            if (end - begin != needed) {
                throw new SafeTensorsFormatException(source, current, offsetsAt, "shape " + Arrays.toString(shape)
                        + " of " + code(dtype) + " needs " + needed + " bytes, but " + span + " span " + (end - begin));
            }
            if (dataSize >= 0 && end > dataSize) {
                throw new SafeTensorsFormatException(source, current, offsetsAt, span
                        + " end past the data section, which holds " + dataSize + " bytes (truncated file?)");
            }
            return new Entry(current, dtype, shape, begin, end, offsetsAt);
        }

        private int numel(int[] shape, long at) throws SafeTensorsFormatException {
            long n = 1;
            for (int d : shape) {
                n *= d;
                if (n > Integer.MAX_VALUE) {
                    throw new SafeTensorsFormatException(source, current, at, "shape " + Arrays.toString(shape)
                            + " has more than 2^31-1 elements, the most a Sparkgrad tensor holds");
                }
            }
            return (int) n;
        }

        private DType parseDType() throws IOException {
            if (p.currentToken() != JsonToken.VALUE_STRING) {
                throw fail("dtype must be a string, found " + describe(p.currentToken()));
            }
            DType dtype = dtypeOf(p.getText());
            if (dtype == null) {
                throw fail("unsupported dtype '" + SafeTensorsFormatException.printable(p.getText()) + "' (Sparkgrad reads F32, F64 and I64)");
            }
            return dtype;
        }

        private int[] parseShape() throws IOException {
            if (p.currentToken() != JsonToken.START_ARRAY) {
                throw fail("shape must be an array of sizes, found " + describe(p.currentToken()));
            }
            List<Integer> dims = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (dims.size() == MAX_RANK) {
                    throw fail("shape has more than " + MAX_RANK + " dimensions");
                }
                long d = parseNonNegative("dimension", Integer.MAX_VALUE);
                dims.add((int) d);
            }
            return dims.stream().mapToInt(Integer::intValue).toArray();
        }

        private long[] parseOffsets() throws IOException {
            if (p.currentToken() != JsonToken.START_ARRAY) {
                throw fail("data_offsets must be an array [begin, end], found " + describe(p.currentToken()));
            }
            List<Long> values = new ArrayList<>();
            while (p.nextToken() != JsonToken.END_ARRAY) {
                if (values.size() == 2) {
                    throw fail("data_offsets must hold exactly two numbers [begin, end]");
                }
                values.add(parseNonNegative("data offset", Long.MAX_VALUE));
            }
            if (values.size() != 2) {
                throw fail("data_offsets must hold exactly two numbers [begin, end], found " + values.size());
            }
            return new long[] {values.get(0), values.get(1)};
        }

        private long parseNonNegative(String what, long max) throws IOException {
            if (p.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                throw fail(what + " must be a whole number, found " + describe(p.currentToken()));
            }
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
                throw fail(what + " " + SafeTensorsFormatException.printable(p.getText()) + " is out of range");
            }
            long v = p.getLongValue();
            if (v < 0) {
                throw fail("negative " + what + " " + v);
            }
            if (v > max) {
                throw fail(what + " " + v + " is larger than " + max);
            }
            return v;
        }

        private void requireFirst(Object seen, String field) throws SafeTensorsFormatException {
            if (seen != null) {
                throw fail("the entry lists \"" + field + "\" twice");
            }
        }

        /** Overlapping tensors would alias each other's bytes: refused, as the reference reader does. */
        private void checkLayout(SafeTensorsHeader header) throws SafeTensorsFormatException {
            Entry previous = null;
            for (Entry e : header.entriesByPosition()) {
                if (e.begin() == e.end()) {
                    continue;
                }
                if (previous != null && e.begin() < previous.end()) {
                    throw new SafeTensorsFormatException(source, e.name(), e.headerOffset(), "data_offsets ["
                            + e.begin() + ", " + e.end() + "] overlap those of tensor '" + SafeTensorsFormatException.printable(previous.name()) + "' ["
                            + previous.begin() + ", " + previous.end() + "]");
                }
                previous = e;
            }
        }

        /** The file offset of the current token, or of the end of the header once the tokens run out. */
        private long offset() {
            JsonLocation at = p.currentToken() == null ? p.currentLocation() : p.currentTokenLocation();
            return JSON_START + Math.max(0, at.getByteOffset());
        }

        private SafeTensorsFormatException fail(String problem) {
            return new SafeTensorsFormatException(source, current, offset(), problem);
        }

        private String describe(JsonToken t) throws IOException {
            if (t == null) {
                return "the end of the header";
            }
            switch (t) {
                case START_OBJECT: return "an object";
                case START_ARRAY: return "an array";
                case VALUE_STRING: return "the string \"" + SafeTensorsFormatException.printable(p.getText()) + "\"";
                case VALUE_NUMBER_INT:
                case VALUE_NUMBER_FLOAT: return "the number " + SafeTensorsFormatException.printable(p.getText());
                case VALUE_TRUE:
                case VALUE_FALSE: return "the boolean " + p.getText();
                case VALUE_NULL: return "null";
                default: return t.asString() == null ? t.name() : "'" + t.asString() + "'";
            }
        }
    }
}
