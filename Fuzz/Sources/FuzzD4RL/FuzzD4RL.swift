import FuzzSupport
import Stitch

/// Fuzzes the D4RL/HDF5 reader: each input is written to a temporary `.hdf5` file and loaded with
/// `DatasetFile.read`, as `stitch train --dataset` and `stitch dataset info` do (HDF5 parsing by libhdf5, Stitch's
/// parallel chunk inflation, column checks, the Q-learning view, non-finite handling), dropping
/// non-finite rows (`--drop-non-finite`) for inputs of odd length and refusing them for even ones (one read per
/// input keeps the rate up). Any thrown error is a correct refusal; a trap or sanitizer report is a finding.
let scratch = ScratchFile("d4rl.hdf5")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzD4RL(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let data = bytes(input)
  scratch.write(data, size)
  if let (ds, _) = try? DatasetFile.read(scratch.path, options: LoadOptions(dropNonFinite: size & 1 == 1)) {
    // What loaded must be a consistent dataset (the samplers index it without further checks).
    precondition(ds.invariantViolations().isEmpty, "D4RL reader returned an inconsistent dataset: \(ds.invariantViolations())")
  }
  return 0
}

/// Keeps the 8-byte HDF5 signature intact and mutates the rest, so that almost every input gets past
/// `H5Fis_hdf5` into the superblock and object parsing (the signature check alone would reject most mutants).
@_cdecl("LLVMFuzzerCustomMutator")
public func mutateD4RL(_ data: UnsafeMutablePointer<UInt8>, _ size: Int, _ maxSize: Int, _ seed: UInt32) -> Int {
  hdf5KeepingSignature(data, size, maxSize, seed)
}
