/**
 * Reading and writing tensors in files other programs understand. {@link io.sparkgrad.io.SafeTensors}
 * is the checkpoint format: PyTorch and Hugging Face read and write it, and unlike Java or Python
 * serialization it cannot run code, so a file from anywhere is safe to load once its lengths and
 * offsets have been checked, which the reader does before it allocates anything.
 */
package io.sparkgrad.io;
