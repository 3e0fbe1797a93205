/*
 * Prints the JVM options Spark's launcher adds to every driver, Master and Worker it starts
 * (org.apache.spark.launcher.JavaModuleOptions: -XX:+IgnoreUnrecognizedVMOptions, the --add-opens
 * list, --add-modules=jdk.incubator.vector, ...), one per line, so scripts that start Spark with plain
 * `java` use exactly the list of the Spark version on the classpath.
 *
 *   java -cp spark-launcher_2.13-4.2.0.jar scripts/SparkJavaOptions.java
 */
public class SparkJavaOptions {
    public static void main(String[] args) {
        for (String option : org.apache.spark.launcher.JavaModuleOptions.defaultModuleOptionArray()) {
            System.out.println(option);
        }
    }
}
