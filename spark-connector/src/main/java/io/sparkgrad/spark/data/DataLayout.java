package io.sparkgrad.spark.data;

import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Which columns hold the features, the label and the weight, how to read them, and what makes a
 * row invalid: resolved once on the driver from the DataFrame's schema, then shipped to the
 * executors that convert the rows ({@link RowConverter}).
 *
 * <p>Features come from one ML {@link Vector} column (dense or sparse), one {@code array} column
 * of numbers, or several numeric columns. The feature count comes from the schema where it can
 * ({@code VectorAssembler}'s attribute metadata, or the number of columns), otherwise from the
 * first row with non-null features (one small job). Labels are class indices
 * {@code 0 … numClasses-1} (any numeric type holding an integral value) or, with
 * {@code numClasses = 0}, real regression targets.
 */
public final class DataLayout implements Serializable {
    private static final long serialVersionUID = 1L;

    /** Where the feature vector comes from. */
    public enum FeatureSource {
        /** One {@code org.apache.spark.ml.linalg.Vector} column. */
        VECTOR,
        /** One {@code array<float|double|int|…>} column. */
        ARRAY,
        /** Several numeric columns, one feature each. */
        COLUMNS
    }

    private final FeatureSource source;
    private final String[] featureColumns;
    private final int numFeatures;
    private final String labelCol;
    private final int numClasses;
    private final String weightCol;
    private final boolean skipInvalid;

    public DataLayout(FeatureSource source, String[] featureColumns, int numFeatures, String labelCol, int numClasses,
            String weightCol, boolean skipInvalid) {
        this.source = source;
        this.featureColumns = featureColumns.clone();
        this.numFeatures = numFeatures;
        this.labelCol = labelCol;
        this.numClasses = numClasses;
        this.weightCol = weightCol;
        this.skipInvalid = skipInvalid;
        if (numFeatures < 1) {
            throw new IllegalArgumentException("the feature vector must have at least one element, got " + numFeatures);
        }
    }

    /**
     * Checks the columns against {@code df}'s schema and works out the feature count.
     *
     * @param featuresCol the vector or array column, used when {@code featureCols} is null
     * @param featureCols several numeric columns, or null
     * @param numClasses  at least 2 for class-index labels, 0 for regression targets
     * @param weightCol   a numeric weight column, or null
     * @throws IllegalArgumentException naming the column that is missing or of the wrong type
     */
    public static DataLayout resolve(Dataset<Row> df, String featuresCol, String[] featureCols, String labelCol,
            int numClasses, String weightCol, boolean skipInvalid) {
        StructType schema = df.schema();
        checkNumeric(schema, labelCol, "label");
        if (weightCol != null) {
            checkNumeric(schema, weightCol, "weight");
        }
        if (featureCols != null) {
            for (String c : featureCols) {
                checkNumeric(schema, c, "feature");
            }
            return new DataLayout(FeatureSource.COLUMNS, featureCols, featureCols.length, labelCol, numClasses, weightCol,
                    skipInvalid);
        }
        StructField field = field(schema, featuresCol, "features");
        DataType type = field.dataType();
        FeatureSource source;
        int size = -1;
        if (type.equals(SQLDataTypes.VectorType())) {
            source = FeatureSource.VECTOR;
            size = AttributeGroup.fromStructField(field).size();
        } else if (type instanceof ArrayType && ((ArrayType) type).elementType() instanceof NumericType) {
            source = FeatureSource.ARRAY;
        } else {
            throw new IllegalArgumentException("features column '" + featuresCol + "' has type " + type.simpleString()
                    + "; expected an ML vector (VectorUDT) or an array of numbers, or set featureCols to numeric columns");
        }
        if (size < 1) {
            size = firstLength(df, featuresCol, source);
        }
        return new DataLayout(source, new String[] {featuresCol}, size, labelCol, numClasses, weightCol, skipInvalid);
    }

    private static int firstLength(Dataset<Row> df, String col, FeatureSource source) {
        List<Row> first = df.select(functions.col(col)).where(functions.col(col).isNotNull()).limit(1).collectAsList();
        if (first.isEmpty()) {
            throw new IllegalArgumentException("features column '" + col + "' has no non-null value, so the feature "
                    + "count is unknown (the DataFrame may be empty)");
        }
        Object v = first.get(0).get(0);
        return source == FeatureSource.VECTOR ? ((Vector) v).size() : first.get(0).getList(0).size();
    }

    private static StructField field(StructType schema, String name, String role) {
        if (name == null || !Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException(role + " column '" + name + "' does not exist; the DataFrame has "
                    + Arrays.toString(schema.fieldNames()));
        }
        return schema.apply(name);
    }

    private static void checkNumeric(StructType schema, String name, String role) {
        DataType t = field(schema, name, role).dataType();
        if (!(t instanceof NumericType)) {
            throw new IllegalArgumentException(role + " column '" + name + "' has type " + t.simpleString()
                    + "; expected a numeric type");
        }
    }

    /** The columns the converter reads, in order: the feature column(s), the label, the weight. */
    public Column[] selection() {
        List<Column> cols = new ArrayList<>();
        for (String c : featureColumns) {
            cols.add(functions.col(c));
        }
        cols.add(functions.col(labelCol));
        if (weightCol != null) {
            cols.add(functions.col(weightCol));
        }
        return cols.toArray(new Column[0]);
    }

    public FeatureSource source() {
        return source;
    }

    /** The feature column(s): one for {@code VECTOR} and {@code ARRAY}, several for {@code COLUMNS}. */
    public String[] featureColumns() {
        return featureColumns.clone();
    }

    /** A name for messages: the features column, or the list of columns. */
    public String featuresName() {
        return featureColumns.length == 1 ? featureColumns[0] : String.join(",", featureColumns);
    }

    public int numFeatures() {
        return numFeatures;
    }

    public String labelCol() {
        return labelCol;
    }

    /** At least 2 for class indices, 0 for regression targets. */
    public int numClasses() {
        return numClasses;
    }

    public boolean isClassification() {
        return numClasses >= 2;
    }

    /** The weight column, or null. */
    public String weightCol() {
        return weightCol;
    }

    public boolean hasWeights() {
        return weightCol != null;
    }

    public boolean skipInvalid() {
        return skipInvalid;
    }

    @Override
    public String toString() {
        return "DataLayout(" + source + " " + featuresName() + " [" + numFeatures + "], label=" + labelCol
                + (isClassification() ? " (" + numClasses + " classes)" : " (regression)")
                + (weightCol != null ? ", weight=" + weightCol : "") + ", handleInvalid=" + (skipInvalid ? "skip" : "error")
                + ")";
    }
}
