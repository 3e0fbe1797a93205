package io.sparkgrad.spark.ml;

import org.apache.spark.ml.attribute.AttributeGroup;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;

/** Schema checks and output columns for the estimators and models; messages name the column and the type. */
final class Schemas {
    private Schemas() {
    }

    static StructField field(StructType schema, String name, String role) {
        if (name == null || name.isEmpty() || !Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException(role + " column '" + name + "' does not exist; the DataFrame has "
                    + Arrays.toString(schema.fieldNames()));
        }
        return schema.apply(name);
    }

    /** The features column: an ML vector or an array of numbers. */
    static void checkFeatures(StructType schema, String name) {
        DataType t = field(schema, name, "features").dataType();
        boolean ok = t.equals(SQLDataTypes.VectorType())
                || (t instanceof ArrayType && ((ArrayType) t).elementType() instanceof NumericType);
        if (!ok) {
            throw new IllegalArgumentException("features column '" + name + "' has type " + t.simpleString()
                    + "; expected an ML vector (e.g. from VectorAssembler) or an array of numbers");
        }
    }

    static void checkNumeric(StructType schema, String name, String role) {
        DataType t = field(schema, name, role).dataType();
        if (!(t instanceof NumericType)) {
            throw new IllegalArgumentException(role + " column '" + name + "' has type " + t.simpleString()
                    + "; expected a numeric type");
        }
    }

    static void checkBoolean(StructType schema, String name, String role) {
        DataType t = field(schema, name, role).dataType();
        if (!(t instanceof BooleanType)) {
            throw new IllegalArgumentException(role + " column '" + name + "' has type " + t.simpleString()
                    + "; expected boolean");
        }
    }

    /** {@code schema} plus {@code f}; an existing column of that name is an error, as in Spark. */
    static StructType append(StructType schema, StructField f) {
        if (Arrays.asList(schema.fieldNames()).contains(f.name())) {
            throw new IllegalArgumentException("output column '" + f.name() + "' already exists in the DataFrame; "
                    + "choose another name with its setter");
        }
        return schema.add(f);
    }

    /** A prediction column: double, with class-count metadata when {@code numClasses > 0}. */
    static StructField prediction(String name, int numClasses) {
        Metadata md = numClasses > 0
                ? NominalAttribute.defaultAttr().withName(name).withNumValues(numClasses).toMetadata()
                : Metadata.empty();
        return new StructField(name, DataTypes.DoubleType, false, md);
    }

    /** A vector column of {@code size} elements, with attribute-group metadata. */
    static StructField vector(String name, int size) {
        return new AttributeGroup(name, size).toStructField();
    }
}
