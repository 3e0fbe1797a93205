/**
 * Shared Spark ML params for Sparkgrad's stages, the Java form of Spark's own
 * {@code org.apache.spark.ml.param.shared} traits: each {@code Has…} interface declares one param
 * (a public no-argument method, so Spark's reflection finds it), its getter, its validator and
 * its documentation, once. A stage implements the interfaces it needs and sets the defaults in one
 * {@code setDefault} block of its constructor.
 *
 * <p>Spark's {@link org.apache.spark.ml.param.Param} is equal to another when parent uid and name
 * are equal, so each call of a param method may return a new {@code Param} object: maps keyed by
 * params, {@code copyValues}, {@code extractParamMap} and persistence only look at that identity.
 * This is what lets a Java interface, which cannot hold per-instance fields, play the role of a
 * Scala trait with a {@code final val}.
 */
package io.sparkgrad.spark.ml.param;
