import Foundation
import FuzzSupport
import Stitch

/// Fuzzes Minari metadata: each input becomes `data/metadata.json` of a copy of a small real Minari dataset (the
/// `pendulum-small` test fixture's `main_data.hdf5`, whose path `scripts/fuzz` passes in STITCH_FUZZ_MINARI_HDF5),
/// which is then loaded with `DatasetFile.read` as `stitch train --dataset FOLDER` does.
let folder: String = {
  let root = ScratchFile("minari").path
  let data = (root as NSString).appendingPathComponent("data")
  try! FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
  guard let source = ProcessInfo.processInfo.environment["STITCH_FUZZ_MINARI_HDF5"] else {
    fatalError("set STITCH_FUZZ_MINARI_HDF5 to a Minari main_data.hdf5 (scripts/fuzz does)")
  }
  let target = (data as NSString).appendingPathComponent("main_data.hdf5")
  try? FileManager.default.removeItem(atPath: target)
  try! FileManager.default.copyItem(atPath: source, toPath: target)
  return root
}()
let metadata = ScratchFile(path: (folder as NSString).appendingPathComponent("data/metadata.json"))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMinari(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let data = bytes(input)
  metadata.write(data, size)
  if let (ds, _) = try? DatasetFile.read(folder) {
    precondition(ds.invariantViolations().isEmpty, "Minari reader returned an inconsistent dataset: \(ds.invariantViolations())")
  }
  return 0
}
