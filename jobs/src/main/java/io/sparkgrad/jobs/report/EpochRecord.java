package io.sparkgrad.jobs.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgrad.spark.train.EpochStats;

/**
 * One epoch of a train job as {@code metrics.json} lists it: the trainer's statistics plus the
 * learning rate the epoch used.
 *
 * @param epoch              the epoch, from 1
 * @param steps              steps (synchronisations) done in all at its end
 * @param trainLoss          mean training loss over the epoch's rows
 * @param validationLoss     mean loss over the validation rows after the epoch (NaN without validation)
 * @param validationMetric   accuracy or RMSE on the validation rows (NaN without validation)
 * @param metricName         {@code accuracy} or {@code rmse}
 * @param rows               training rows processed
 * @param rowsPerSecond      rows over the epoch's training time
 * @param sparkOverheadShare the share of step time not spent computing
 * @param seconds            the epoch's wall time, validation included
 * @param learningRate       the learning rate it used
 */
public record EpochRecord(int epoch, long steps, double trainLoss, double validationLoss, double validationMetric,
        String metricName, long rows, double rowsPerSecond, double sparkOverheadShare, double seconds,
        double learningRate) {

    public static EpochRecord of(EpochStats s, double lr) {
        return new EpochRecord(s.epoch(), s.steps(), s.trainLoss(), s.validationLoss(), s.validationMetric(),
                s.metricName(), s.rows(), s.rowsPerSecond(), s.sparkOverheadShare(), s.seconds(), lr);
    }

    /** This epoch as a JSON object; NaN values become {@code null}. */
    public ObjectNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("epoch", epoch);
        o.put("steps", steps);
        put(o, "train_loss", trainLoss);
        put(o, "val_loss", validationLoss);
        put(o, "val_" + metricName, validationMetric);
        o.put("rows", rows);
        put(o, "rows_per_second", rowsPerSecond);
        put(o, "seconds", seconds);
        put(o, "spark_overhead_share", sparkOverheadShare);
        put(o, "learning_rate", learningRate);
        return o;
    }

    /**
     * Reads an object written by {@link #toJson()}.
     *
     * @throws IllegalArgumentException naming the key, when {@code o} is not such an object
     */
    public static EpochRecord fromJson(JsonNode o) {
        if (o == null || !o.isObject()) {
            throw new IllegalArgumentException("an epoch's entry is not a JSON object: " + o);
        }
        String metric = o.has("val_accuracy") ? "accuracy" : "rmse";
        return new EpochRecord((int) whole(o, "epoch", 1, Integer.MAX_VALUE), whole(o, "steps", 0, Long.MAX_VALUE),
                num(o, "train_loss"), num(o, "val_loss"), num(o, "val_" + metric), metric,
                whole(o, "rows", 0, Long.MAX_VALUE), num(o, "rows_per_second"), num(o, "spark_overhead_share"),
                num(o, "seconds"), num(o, "learning_rate"));
    }

    static void put(ObjectNode o, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    private static long whole(JsonNode o, String key, long min, long max) {
        JsonNode v = o.get(key);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < min || v.asLong() > max) {
            throw new IllegalArgumentException("an epoch's entry has " + (v == null ? "no \"" + key + "\""
                    : "\"" + key + "\": " + v + ", not a whole number from " + min) + ": " + o);
        }
        return v.asLong();
    }

    /** A number, or NaN for null or a missing key (as {@link #put} writes NaN). */
    private static double num(JsonNode o, String key) {
        JsonNode v = o.get(key);
        if (v != null && !v.isNull() && !v.isNumber()) {
            throw new IllegalArgumentException("an epoch's entry has \"" + key + "\": " + v + ", not a number: " + o);
        }
        return v == null || v.isNull() ? Double.NaN : v.asDouble();
    }
}
