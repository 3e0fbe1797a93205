package io.sparkgrad.jobs.data;

import io.sparkgrad.jobs.cli.UsageException;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.DataFrameReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Reading the jobs' input from any Hadoop file system path in any of the {@link InputFormat}s, and
 * turning its columns into one features column the network takes.
 */
public final class Inputs {
    /** The features column name the jobs make when they assemble several columns into one. */
    public static final String ASSEMBLED = "features";

    private Inputs() {
    }

    /**
     * Where and how to read.
     *
     * @param path        a file, a directory or a glob, on any Hadoop file system
     * @param format      the format, or null to tell it from the names
     * @param labels      IDX only: the labels file (null: by the MNIST naming convention, if that file exists)
     * @param csvHeader   CSV only: whether the first line names the columns
     * @param csvSep      CSV only: the field separator
     * @param numFeatures LibSVM only: the feature count (0: the largest index found)
     * @param limit       at most this many rows (0: all)
     * @param partitions  IDX only: how many partitions to read into (0: Spark's default parallelism)
     */
    public record Source(String path, InputFormat format, String labels, boolean csvHeader, String csvSep,
            int numFeatures, long limit, int partitions) {
    }

    /**
     * Checks that {@code path} (a file, a directory or a glob) exists, with {@code conf}.
     *
     * @throws BadInputException naming {@code option} when it does not
     */
    public static void checkExists(Configuration conf, String path, String option) {
        DataFiles.list(conf, path, option, true);
    }

    /** The format {@code source} resolves to (detected when not given). */
    public static InputFormat formatOf(SparkSession spark, Source source) {
        return source.format() != null ? source.format()
                : InputFormat.detect(spark.sessionState().newHadoopConf(), source.path(), "--input");
    }

    /**
     * The input as a DataFrame.
     *
     * @param labelsRequired IDX: whether a missing labels file is an error (evaluate, train) or not (predict)
     * @throws BadInputException when a file is missing or not of the format
     */
    public static Dataset<Row> read(SparkSession spark, Source source, boolean labelsRequired) {
        InputFormat format = formatOf(spark, source);
        Dataset<Row> df;
        switch (format) {
            case IDX:
                return IdxSource.read(spark, source.path(), idxLabels(spark, source, labelsRequired), source.limit(),
                        source.partitions());
            case ARROW:
                return ArrowIpc.read(spark, source.path(), source.limit());
            case PARQUET:
                df = load(spark.read(), "parquet", source.path());
                break;
            case CSV:
                df = load(spark.read().option("header", source.csvHeader()).option("inferSchema", true)
                        .option("sep", source.csvSep()).option("mode", "FAILFAST"), "csv", source.path());
                break;
            default:
                DataFrameReader r = spark.read();
                if (source.numFeatures() > 0) {
                    r = r.option("numFeatures", source.numFeatures());
                }
                df = load(r, "libsvm", source.path());
        }
        return source.limit() > 0 ? df.limit((int) Math.min(Integer.MAX_VALUE, source.limit())) : df;
    }

    private static String idxLabels(SparkSession spark, Source source, boolean required) {
        if (source.labels() != null) {
            return source.labels();
        }
        String guess = IdxSource.defaultLabels(source.path());
        boolean exists = false;
        if (guess != null) {
            try {
                org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(guess);
                exists = p.getFileSystem(spark.sessionState().newHadoopConf()).exists(p);
            } catch (java.io.IOException e) {
                exists = false;
            }
        }
        if (exists) {
            return guess;
        }
        if (required) {
            throw new UsageException("--labels: an IDX input needs its labels file; none given and "
                    + (guess == null ? "the name " + source.path() + " does not say it" : guess + " does not exist"));
        }
        return null;
    }

    private static Dataset<Row> load(DataFrameReader reader, String format, String path) {
        try {
            return reader.format(format).load(path);
        } catch (Exception e) { // Spark throws SparkException, a checked exception, without declaring it
            String msg = firstLine(e);
            if (msg.contains("PATH_NOT_FOUND") || msg.toLowerCase(Locale.ROOT).contains("does not exist")) {
                throw new BadInputException("--input: " + path + " does not exist", e);
            }
            throw new BadInputException("--input: cannot read " + path + " as " + format + ": " + reason(e), e);
        }
    }

    /**
     * What went wrong at the bottom of a failed Spark job ("For input string: \"x\""), with the
     * exception's kind where its message alone would not say it, rather than the job's own summary.
     */
    private static String reason(Throwable e) {
        Throwable root = rootCause(e);
        String line = firstLine(root);
        return root == e || root instanceof org.apache.spark.SparkThrowable ? line
                : line + " (" + root.getClass().getSimpleName() + ")";
    }

    /** The innermost cause of {@code e} ({@code e} itself when it has none). */
    public static Throwable rootCause(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root;
    }

    /** The first line of an exception's message (Spark's carry long plans and stack traces). */
    public static String firstLine(Throwable e) {
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        int nl = m.indexOf('\n');
        return (nl >= 0 ? m.substring(0, nl) : m).trim();
    }

    /**
     * The features of a DataFrame: the column the network reads, and the input columns it came from.
     *
     * @param df        the DataFrame with the features column
     * @param column    the name of the features column (a vector or an array of numbers)
     * @param sources   the input columns it was made from ({@code [column]} when it was there already)
     * @param assembled whether the jobs assembled it from several numeric columns
     */
    public record Features(Dataset<Row> df, String column, List<String> sources, boolean assembled) {
    }

    /**
     * Resolves the features: {@code requested} columns (one vector or array column, or numeric
     * columns to assemble); when none are requested, the {@code features} column if there is one,
     * else every numeric column other than {@code exclude}.
     *
     * @throws BadInputException for a missing column or one of a type that cannot be a feature
     */
    public static Features features(Dataset<Row> df, List<String> requested, List<String> exclude) {
        StructType schema = df.schema();
        List<String> names = Arrays.asList(schema.fieldNames());
        List<String> cols = new ArrayList<>(requested);
        if (cols.isEmpty()) {
            if (names.contains(ASSEMBLED)) {
                cols.add(ASSEMBLED);
            } else {
                for (StructField f : schema.fields()) {
                    if (f.dataType() instanceof NumericType && !exclude.contains(f.name())) {
                        cols.add(f.name());
                    }
                }
                if (cols.isEmpty()) {
                    throw new BadInputException("--features: the input has no 'features' column and no numeric column "
                            + "besides " + exclude + "; its columns are " + schema.simpleString());
                }
            }
        }
        for (String c : cols) {
            if (!names.contains(c)) {
                throw new BadInputException("--features: column '" + c + "' does not exist; the input has " + names);
            }
        }
        if (cols.size() == 1 && isVectorLike(schema.apply(cols.get(0)).dataType())) {
            return new Features(df, cols.get(0), List.copyOf(cols), false);
        }
        for (String c : cols) {
            DataType t = schema.apply(c).dataType();
            if (!(t instanceof NumericType)) {
                throw new BadInputException("--features: column '" + c + "' has type " + t.simpleString()
                        + "; features are one vector or array<number> column, or numeric columns to assemble");
            }
        }
        String out = names.contains(ASSEMBLED) ? "sparkgrad_features" : ASSEMBLED;
        Dataset<Row> assembled = new VectorAssembler().setInputCols(cols.toArray(new String[0])).setOutputCol(out)
                .setHandleInvalid("keep").transform(df);
        return new Features(assembled, out, List.copyOf(cols), true);
    }

    /** An ML vector or an array of numbers. */
    public static boolean isVectorLike(DataType t) {
        return t.equals(SQLDataTypes.VectorType())
                || (t instanceof ArrayType && ((ArrayType) t).elementType() instanceof NumericType);
    }

    /**
     * Checks that {@code column} exists and is numeric.
     *
     * @param option the command-line option that named it
     */
    public static void checkNumeric(Dataset<Row> df, String column, String option) {
        List<String> names = Arrays.asList(df.schema().fieldNames());
        if (!names.contains(column)) {
            throw new BadInputException(option + ": column '" + column + "' does not exist; the input has " + names);
        }
        DataType t = df.schema().apply(column).dataType();
        if (!(t instanceof NumericType)) {
            throw new BadInputException(option + ": column '" + column + "' has type " + t.simpleString()
                    + "; expected a number (class index 0, 1, … for classification)");
        }
    }
}
