package io.sparkgrad.io;

import io.sparkgrad.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** A save either replaces the file completely or leaves the old one as it was, with no debris. */
class SafeTensorsAtomicSaveTest {

    @TempDir
    Path dir;

    /** A tensor whose data cannot be read: the writer meets it only after earlier tensors are written. */
    static final class UnreadableTensor extends Tensor {
        UnreadableTensor(Tensor data) {
            super(data);
        }

        @Override
        public Tensor contiguousData() {
            throw new IllegalStateException("device lost while reading the tensor");
        }
    }

    private Path goodFile() throws IOException {
        Path file = dir.resolve("model.safetensors");
        SafeTensors.save(Map.of("w", Tensor.of(new float[] {1, 2, 3}, 3)), Map.of("epoch", "1"), file);
        return file;
    }

    private List<String> directoryListing() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    @Test
    void saveReplacesTheFileAndLeavesNoTemporaryFiles() throws IOException {
        Path file = goodFile();
        SafeTensors.save(Map.of("w", Tensor.of(new float[] {7, 8}, 2)), Map.of("epoch", "2"), file);
        SafeTensors.Contents c = SafeTensors.load(file);
        assertArrayEquals(new float[] {7, 8}, c.tensors().get("w").toFloatArray());
        assertEquals("2", c.metadata().get("epoch"));
        assertEquals(List.of("model.safetensors"), directoryListing());
    }

    @Test
    void aSaveThatFailsPartWayLeavesTheOldFileIntactAndNoDebris() throws IOException {
        Path file = goodFile();
        byte[] before = Files.readAllBytes(file);

        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("first", Tensor.ones(100_000));
        tensors.put("second", new UnreadableTensor(Tensor.ones(10)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> SafeTensors.save(tensors, file));
        assertEquals("device lost while reading the tensor", e.getMessage());

        assertArrayEquals(before, Files.readAllBytes(file));
        assertArrayEquals(new float[] {1, 2, 3}, SafeTensors.load(file).tensors().get("w").toFloatArray());
        assertEquals(List.of("model.safetensors"), directoryListing());
    }

    @Test
    void anInvalidMapIsRefusedBeforeAnyFileIsCreated() throws IOException {
        Path file = goodFile();
        byte[] before = Files.readAllBytes(file);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("w", Tensor.ones(2));
        tensors.put("b", null);
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(tensors, file));
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(tensors, dir.resolve("new.safetensors")));
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("model.safetensors"), directoryListing());
    }

    @Test
    void anUnwritableDirectoryFailsTheSaveAndKeepsTheOldFile() throws IOException {
        assumeTrue(dir.getFileSystem().supportedFileAttributeViews().contains("posix"), "needs POSIX permissions");
        Path file = goodFile();
        byte[] before = Files.readAllBytes(file);
        Set<PosixFilePermission> original = Files.getPosixFilePermissions(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
        try {
            assumeFalse(Files.isWritable(dir), "running as root: a read-only directory stays writable");
            assertThrows(IOException.class, () -> SafeTensors.save(Map.of("w", Tensor.ones(4)), file));
        } finally {
            Files.setPosixFilePermissions(dir, original);
        }
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of("model.safetensors"), directoryListing());
    }

    @Test
    void aTargetThatIsADirectoryFailsWithoutDebris() throws IOException {
        Path target = Files.createDirectory(dir.resolve("model.safetensors"));
        Files.writeString(target.resolve("keep.txt"), "precious");
        assertThrows(IOException.class, () -> SafeTensors.save(Map.of("w", Tensor.ones(4)), target));
        assertEquals("precious", Files.readString(target.resolve("keep.txt")));
        assertEquals(List.of("model.safetensors"), directoryListing());
    }

    @Test
    void aRelativePathSavesIntoTheWorkingDirectoryTree() throws IOException {
        Path file = dir.resolve("sub").resolve("m.safetensors");
        Files.createDirectories(file.getParent());
        SafeTensors.save(Map.of("w", Tensor.ones(1)), file);
        assertTrue(Files.isRegularFile(file));
        assertThrows(IOException.class, () -> SafeTensors.save(Map.of("w", Tensor.ones(1)),
                dir.resolve("missing-dir").resolve("m.safetensors")));
    }
}
