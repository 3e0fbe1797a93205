/**
 * Kryo registration for the classes the trainer sends through Spark's serializer:
 * {@link io.sparkgrad.spark.kryo.SparkgradKryoRegistrator}, which makes training work with
 * {@code spark.kryo.registrationRequired=true}.
 */
package io.sparkgrad.spark.kryo;
