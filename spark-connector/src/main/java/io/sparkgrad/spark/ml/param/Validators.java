package io.sparkgrad.spark.ml.param;

import org.apache.spark.ml.param.ParamValidators;
import scala.Function1;

import java.io.Serializable;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Serializable param validators for Java code. Spark's {@link ParamValidators} covers numbers
 * and fixed choices; these add arrays and case-insensitive choices. Every validator is a
 * {@code scala.Function1} that Java serialization can carry (a params object is
 * {@code Serializable}, so its validators must be too).
 */
public final class Validators {
    private Validators() {
    }

    /** A {@code Function1} that is also {@link Serializable}, so a Java lambda can be one. */
    @FunctionalInterface
    public interface Check<T> extends Function1<T, Object>, Serializable {
    }

    /** Any value. */
    public static <T> Function1<T, Object> any() {
        return (Check<T>) v -> true;
    }

    /** Numbers strictly greater than {@code bound}. */
    public static Function1<Object, Object> gt(double bound) {
        return ParamValidators.gt(bound);
    }

    /** Numbers greater than or equal to {@code bound}. */
    public static Function1<Object, Object> gtEq(double bound) {
        return ParamValidators.gtEq(bound);
    }

    /** Numbers in {@code [low, high)}. */
    public static Function1<Object, Object> inRangeHalfOpen(double low, double high) {
        return ParamValidators.inRange(low, high, true, false);
    }

    /** One of {@code allowed}, compared ignoring case (the value is stored as given). */
    public static Function1<String, Object> oneOfIgnoreCase(String... allowed) {
        List<String> lower = Arrays.stream(allowed).map(s -> s.toLowerCase(Locale.ROOT)).toList();
        return (Check<String>) v -> v != null && lower.contains(v.toLowerCase(Locale.ROOT));
    }

    /** A non-empty array whose every element is at least 1. */
    public static Function1<int[], Object> positiveSizes() {
        return (Check<int[]>) v -> v != null && v.length > 0 && Arrays.stream(v).allMatch(x -> x >= 1);
    }

    /** An array (possibly empty) whose every element is at least 1. */
    public static Function1<int[], Object> positiveSizesOrEmpty() {
        return (Check<int[]>) v -> v != null && Arrays.stream(v).allMatch(x -> x >= 1);
    }
}
