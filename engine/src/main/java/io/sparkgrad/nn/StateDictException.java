package io.sparkgrad.nn;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A state dict that does not fit a module: every missing, unexpected and mis-shaped key at once,
 * in PyTorch's wording, so one failed load shows everything that needs fixing.
 */
public final class StateDictException extends IllegalArgumentException {
    private final List<String> missingKeys;
    private final List<String> unexpectedKeys;
    private final List<String> sizeMismatches;

    public StateDictException(String moduleName, List<String> missingKeys, List<String> unexpectedKeys,
                              List<String> sizeMismatches) {
        super(message(moduleName, missingKeys, unexpectedKeys, sizeMismatches));
        this.missingKeys = List.copyOf(missingKeys);
        this.unexpectedKeys = List.copyOf(unexpectedKeys);
        this.sizeMismatches = List.copyOf(sizeMismatches);
    }

    public List<String> missingKeys() {
        return missingKeys;
    }

    public List<String> unexpectedKeys() {
        return unexpectedKeys;
    }

    /** One line per key whose shape differs, naming the key and both shapes. */
    public List<String> sizeMismatches() {
        return sizeMismatches;
    }

    private static String message(String moduleName, List<String> missing, List<String> unexpected,
                                  List<String> mismatches) {
        StringBuilder sb = new StringBuilder("Error(s) in loading state_dict for ").append(moduleName).append(':');
        if (!missing.isEmpty()) {
            sb.append("\n\tMissing key(s) in state_dict: ").append(quoted(missing)).append('.');
        }
        if (!unexpected.isEmpty()) {
            sb.append("\n\tUnexpected key(s) in state_dict: ").append(quoted(unexpected)).append('.');
        }
        for (String m : mismatches) {
            sb.append("\n\t").append(m);
        }
        return sb.toString();
    }

    private static String quoted(List<String> keys) {
        return keys.stream().map(k -> "\"" + k + "\"").collect(Collectors.joining(", "));
    }
}
