/// libFuzzer's own mutator (declared in FuzzerInterface.h), for custom mutators that mutate part of an input.
@_silgen_name("LLVMFuzzerMutate")
func LLVMFuzzerMutate(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int) -> Int

/// The HDF5 file signature (HDF5 File Format Specification, "Format Signature"), at offset 0 in the files Stitch
/// and h5py write.
let hdf5Signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0D, 0x0A, 0x1A, 0x0A]

/// A light structure-aware mutation for HDF5 inputs: libFuzzer mutates the bytes after the signature and the
/// signature is put back, so mutants reach the superblock, object headers, B-trees and chunks instead of being
/// refused by `H5Fis_hdf5`. One mutation in 16 is unrestricted, so damaged signatures are still tried.
public func hdf5KeepingSignature(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
  let n = hdf5Signature.count
  if seed % 16 == 0 || maxSize <= n { return LLVMFuzzerMutate(data, size, maxSize) }
  let body = size >= n ? size - n : 0
  if size < n { for i in 0..<(maxSize - n) { data[n + i] = 0 } }
  let mutated = LLVMFuzzerMutate(data + n, body, maxSize - n)
  for i in 0..<n { data[i] = hdf5Signature[i] }
  return n + mutated
}
