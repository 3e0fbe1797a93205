package io.sparkgrad.spark.ml.param;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sparkgrad.nn.Module;
import io.sparkgrad.spark.train.SerializableSupplier;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.Identifiable;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Modifier;

/**
 * A param whose value builds the network: a {@link SerializableSupplier} of an engine
 * {@link Module}. Executors receive the factory itself (Java serialization inside Spark's
 * closures); a saved stage stores only its class name, {@code {"class": "com.example.MyNet"}}, and a
 * loaded one makes a new instance of that class. So a factory that must survive save/load is a
 * public top-level (or static nested) class with a public no-argument constructor; a lambda works
 * for training and transforming but cannot be saved, and saving says so.
 *
 * <p>Loading never runs code of a class that does not implement {@link SerializableSupplier}: the
 * class is checked before it is initialized or instantiated.
 */
public final class ModuleFactoryParam extends Param<SerializableSupplier<? extends Module>> {
    private static final long serialVersionUID = 1L;
    private static final ObjectMapper JSON = new ObjectMapper();

    public ModuleFactoryParam(Identifiable parent, String name, String doc) {
        super(parent, name, doc, Validators.any());
    }

    @Override
    public String jsonEncode(SerializableSupplier<? extends Module> factory) {
        Class<?> c = factory.getClass();
        String problem = savableProblem(c);
        if (problem != null) {
            throw new IllegalArgumentException("cannot save param " + name() + ": the network factory " + c.getName()
                    + " " + problem + ". To save a stage built from a custom network, implement "
                    + "SerializableSupplier<Module> as a public class with a public no-argument constructor.");
        }
        ObjectNode node = JSON.createObjectNode();
        node.put("class", c.getName());
        return node.toString();
    }

    @Override
    public SerializableSupplier<? extends Module> jsonDecode(String json) {
        String className;
        try {
            JsonNode node = JSON.readTree(json);
            JsonNode cls = node == null ? null : node.get("class");
            if (cls == null || !cls.isTextual()) {
                throw new IllegalArgumentException("param " + name() + ": expected {\"class\": \"...\"}, got " + json);
            }
            className = cls.asText();
        } catch (IOException e) {
            throw new IllegalArgumentException("param " + name() + ": not valid JSON: " + json, e);
        }
        return instantiate(name(), className);
    }

    /** Why instances of {@code c} cannot be rebuilt from the class name alone, or null if they can. */
    static String savableProblem(Class<?> c) {
        if (c.isSynthetic() || c.getName().contains("$$Lambda")) {
            return "is a lambda";
        }
        if (c.isAnonymousClass() || c.isLocalClass()) {
            return "is an anonymous or local class";
        }
        if (c.getEnclosingClass() != null && !Modifier.isStatic(c.getModifiers())) {
            return "is an inner (non-static) class";
        }
        if (!Modifier.isPublic(c.getModifiers())) {
            return "is not public";
        }
        try {
            Constructor<?> k = c.getConstructor();
            return Modifier.isPublic(k.getModifiers()) ? null : "has no public no-argument constructor";
        } catch (NoSuchMethodException e) {
            return "has no public no-argument constructor";
        }
    }

    /** A new instance of {@code className}, checked to be a {@link SerializableSupplier} before any of its code runs. */
    @SuppressWarnings("unchecked")
    static SerializableSupplier<? extends Module> instantiate(String paramName, String className) {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = ModuleFactoryParam.class.getClassLoader();
        }
        Class<?> c;
        try {
            c = Class.forName(className, false, loader);
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("param " + paramName + ": network factory class " + className
                    + " is not on the classpath", e);
        }
        if (!SerializableSupplier.class.isAssignableFrom(c)) {
            throw new IllegalArgumentException("param " + paramName + ": " + className
                    + " does not implement " + SerializableSupplier.class.getName() + "; refusing to instantiate it");
        }
        String problem = savableProblem(c);
        if (problem != null) {
            throw new IllegalArgumentException("param " + paramName + ": network factory " + className + " " + problem);
        }
        try {
            return (SerializableSupplier<? extends Module>) c.getConstructor().newInstance();
        } catch (InvocationTargetException e) {
            throw new IllegalArgumentException("param " + paramName + ": the constructor of " + className + " failed: "
                    + e.getCause(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("param " + paramName + ": cannot instantiate " + className + ": " + e, e);
        }
    }
}
