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

    /** Reads an object written by {@link #toJson()}. */
    public static EpochRecord fromJson(JsonNode o) {
        String metric = o.has("val_accuracy") ? "accuracy" : "rmse";
        return new EpochRecord(o.get("epoch").asInt(), o.get("steps").asLong(), num(o, "train_loss"), num(o, "val_loss"),
                num(o, "val_" + metric), metric, o.get("rows").asLong(), num(o, "rows_per_second"), num(o,
                "spark_overhead_share"), num(o, "seconds"), num(o, "learning_rate"));
    }

    static void put(ObjectNode o, String key, double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            o.putNull(key);
        } else {
            o.put(key, v);
        }
    }

    private static double num(JsonNode o, String key) {
        JsonNode v = o.get(key);
        return v == null || v.isNull() ? Double.NaN : v.asDouble();
    }
}
