import CHDF5

import Foundation

/// Errors from HDF5 files, each naming the file and the dataset path.
public enum HDF5Error: Error, CustomStringConvertible, Equatable {
  case cannotOpen(String)
  case missingKey(file: String, key: String)
  case unsupportedType(file: String, key: String, detail: String)
  case readFailed(file: String, key: String)
  /// A dataset whose layout or storage cannot hold its shape (found before libhdf5 reads it: `checkStorage`).
  case malformed(file: String, key: String, detail: String)
  case writeFailed(file: String, detail: String)

  public var description: String {
    switch self {
    case .cannotOpen(let s): return s
    case .missingKey(let f, let k): return "\(f): required dataset '\(k)' is missing"
    case .unsupportedType(let f, let k, let d): return "\(f): dataset '\(k)' has an unsupported type (\(d))"
    case .readFailed(let f, let k): return "\(f): reading dataset '\(k)' failed (file truncated or corrupt?)"
    case .malformed(let f, let k, let d): return "\(f): dataset '\(k)' is malformed: \(d)"
    case .writeFailed(let f, let d): return "cannot write \(f): \(d)"
    }
  }
}

/// A dataset read into memory: its shape and values converted to Float64 or Float32.
struct HDF5Array {
  var shape: [Int]
  var values: [Double]
}

/// A thin wrapper over an open HDF5 file that always closes its handles.
final class HDF5File {
  let id: hid_t
  let path: String

  private init(id: hid_t, path: String) {
    self.id = id
    self.path = path
  }

  deinit { H5Fclose(id) }

  /// Opens a file for reading; distinguishes "missing" from "not HDF5" from "corrupt".
  static func open(_ path: String) throws -> HDF5File {
    stitch_H5_silence_errors()
    guard FileManager.default.fileExists(atPath: path) else { throw HDF5Error.cannotOpen("\(path): no such file") }
    if H5Fis_hdf5(path) <= 0 { throw HDF5Error.cannotOpen("\(path): not an HDF5 file (bad signature)") }
    let id = H5Fopen(path, stitch_H5F_ACC_RDONLY(), stitch_H5P_DEFAULT())
    guard id >= 0 else { throw HDF5Error.cannotOpen("\(path): HDF5 cannot open it (truncated or corrupt)") }
    return HDF5File(id: id, path: path)
  }

  /// Creates (truncates) a file for writing.
  static func create(_ path: String) throws -> HDF5File {
    stitch_H5_silence_errors()
    let id = H5Fcreate(path, stitch_H5F_ACC_TRUNC(), stitch_H5P_DEFAULT(), stitch_H5P_DEFAULT())
    guard id >= 0 else { throw HDF5Error.writeFailed(file: path, detail: "H5Fcreate failed") }
    return HDF5File(id: id, path: path)
  }

  /// Whether a link (dataset or group) exists at `key` ("observations", "infos/qpos").
  func exists(_ key: String) -> Bool {
    var prefix = ""
    for part in key.split(separator: "/") {
      prefix += (prefix.isEmpty ? "" : "/") + part
      if H5Lexists(id, prefix, stitch_H5P_DEFAULT()) <= 0 { return false }
    }
    return true
  }

  /// Names of the links directly under a group ("/" for the root).
  func children(of group: String) -> [String] {
    let g = H5Gopen2(id, group, stitch_H5P_DEFAULT())
    guard g >= 0 else { return [] }
    defer { H5Gclose(g) }
    var info = H5G_info_t()
    guard H5Gget_info(g, &info) >= 0 else { return [] }
    var names: [String] = []
    for i in 0..<info.nlinks {
      let size = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, nil, 0, stitch_H5P_DEFAULT())
      guard size >= 0 else { continue }
      var buffer = [CChar](repeating: 0, count: Int(size) + 1)
      H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, &buffer, Int(size) + 1, stitch_H5P_DEFAULT())
      names.append(String(cString: buffer))
    }
    return names
  }

  /// The shape of a dataset.
  func shape(_ key: String) throws -> [Int] {
    let d = H5Dopen2(id, key, stitch_H5P_DEFAULT())
    guard d >= 0 else { throw HDF5Error.missingKey(file: path, key: key) }
    defer { H5Dclose(d) }
    let space = H5Dget_space(d)
    defer { H5Sclose(space) }
    let rank = Int(H5Sget_simple_extent_ndims(space))
    var dims = [hsize_t](repeating: 0, count: max(rank, 1))
    H5Sget_simple_extent_dims(space, &dims, nil)
    return rank == 0 ? [] : dims.prefix(rank).map { Int($0) }
  }

  /// Reads a numeric or boolean dataset as Float32, converting float64, integers and HDF5 enums over int8
  /// (how h5py stores NumPy bools) on the fly.
  ///
  /// Gzip-compressed chunked datasets are inflated on all cores (`readFloatsByChunks`) unless `parallel` is false.
  func readFloats(_ key: String, parallel: Bool = true) throws -> (shape: [Int], values: [Float]) {
    let d = H5Dopen2(id, key, stitch_H5P_DEFAULT())
    guard d >= 0 else { throw HDF5Error.missingKey(file: path, key: key) }
    defer { H5Dclose(d) }
    let shape = try self.shape(key)
    let type = H5Dget_type(d)
    defer { H5Tclose(type) }
    let count = try checkStorage(d, key: key, shape: shape, type: type)
    if parallel, let values = try readFloatsByChunks(d, key: key, shape: shape, type: type) { return (shape, values) }
    let cls = H5Tget_class(type)
    var values = [Float](repeating: 0, count: count)
    if count == 0 { return (shape, values) }
    switch cls {
    case H5T_FLOAT, H5T_INTEGER:
      // HDF5 converts float64/int/uint to native float during the read.
      let status = values.withUnsafeMutableBytes { H5Dread(d, stitch_H5T_NATIVE_FLOAT(), stitch_H5S_ALL(), stitch_H5S_ALL(), stitch_H5P_DEFAULT(), $0.baseAddress) }
      guard status >= 0 else { throw HDF5Error.readFailed(file: path, key: key) }
    case H5T_ENUM:
      var raw = [Int8](repeating: 0, count: count)
      let status = raw.withUnsafeMutableBytes { H5Dread(d, stitch_H5T_NATIVE_INT8(), stitch_H5S_ALL(), stitch_H5S_ALL(), stitch_H5P_DEFAULT(), $0.baseAddress) }
      guard status >= 0 else { throw HDF5Error.readFailed(file: path, key: key) }
      for i in 0..<count { values[i] = raw[i] != 0 ? 1 : 0 }
    default:
      throw HDF5Error.unsupportedType(file: path, key: key, detail: "HDF5 type class \(cls.rawValue); expected float, integer or bool")
    }
    return (shape, values)
  }

  /// The element count of dataset `d`, after checking that its type and storage can hold `shape`, so that a
  /// malformed file is refused here rather than handed to libhdf5, which is not hardened against such files
  /// (Debian's libhdf5 1.10 reads a compact dataset with missing data from a null pointer and allocates whatever
  /// a corrupt chunk size asks for; docs/fuzzing.md). Checks: the element count does not overflow; the type is a
  /// float of 2, 4 or 8 bytes, an integer of 1, 2, 4 or 8 or an enum of 1 (what `readFloats` converts); compact and
  /// contiguous data have all their bytes, inside the file; a chunk is no larger than the dataset or 16 MiB; and
  /// compressed storage does not claim more than deflate's 1032:1 maximum expansion beyond 64 MiB.
  func checkStorage(_ d: hid_t, key: String, shape: [Int], type: hid_t) throws -> Int {
    func corrupt(_ problem: String) -> HDF5Error { .malformed(file: path, key: key, detail: problem) }
    var count = 1
    for n in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: n)
      guard !overflow, n >= 0 else { throw corrupt("shape \(shape) has too many elements") }
      count = product
    }
    let size = H5Tget_size(type), cls = H5Tget_class(type)
    let sizes: [Int] = cls == H5T_FLOAT ? [2, 4, 8] : cls == H5T_INTEGER ? [1, 2, 4, 8] : cls == H5T_ENUM ? [1] : []
    guard sizes.contains(size) else { throw HDF5Error.unsupportedType(file: path, key: key, detail: "HDF5 type class \(cls.rawValue) of \(size) bytes; expected a float of 2, 4 or 8 bytes, an integer of 1, 2, 4 or 8, or a 1-byte bool") }
    let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
    guard !overflow else { throw corrupt("shape \(shape) has too many elements") }
    guard count > 0 else { return 0 }
    let dcpl = H5Dget_create_plist(d)
    guard dcpl >= 0 else { throw HDF5Error.readFailed(file: path, key: key) }
    defer { H5Pclose(dcpl) }
    let stored = Int(clamping: H5Dget_storage_size(d))
    switch H5Pget_layout(dcpl) {
    case H5D_COMPACT, H5D_CONTIGUOUS:
      guard stored >= bytes else { throw corrupt("it stores \(stored) bytes for \(count) elements of \(size) bytes (file truncated or corrupt)") }
      if H5Pget_layout(dcpl) == H5D_CONTIGUOUS {
        var fileSize: hsize_t = 0
        let offset = H5Dget_offset(d)
        guard H5Fget_filesize(id, &fileSize) >= 0, offset != haddr_t.max,
              UInt64(offset) <= fileSize, UInt64(bytes) <= fileSize - UInt64(offset) else {
          throw corrupt("its \(bytes) data bytes lie outside the file (file truncated or corrupt)")
        }
      }
    case H5D_CHUNKED:
      let rank = shape.count
      var chunk = [hsize_t](repeating: 0, count: max(rank, 1))
      guard rank > 0, H5Pget_chunk(dcpl, Int32(rank), &chunk) == rank else { throw corrupt("its chunk layout cannot be read") }
      var chunkBytes = size
      for c in chunk.prefix(rank) {
        let (product, overflow) = chunkBytes.multipliedReportingOverflow(by: Int(clamping: c))
        guard !overflow else { throw corrupt("chunk shape \(chunk) is too large") }
        chunkBytes = product
      }
      guard chunkBytes <= max(bytes, 1 << 24) else { throw corrupt("chunk shape \(chunk) (\(chunkBytes) bytes) is larger than the dataset and 16 MiB") }
      guard bytes <= max(stored.multipliedReportingOverflow(by: 1032).partialValue, 1 << 26) else {
        throw corrupt("it claims \(bytes) bytes from \(stored) stored (more than deflate's 1032:1 can expand; file corrupt)")
      }
    default:
      throw corrupt("its storage layout \(H5Pget_layout(dcpl).rawValue) is not compact, contiguous or chunked")
    }
    return count
  }

  /// Reads a scalar or 1-element string dataset or attribute-like string (metadata), if present.
  func readString(_ key: String) -> String? {
    let d = H5Dopen2(id, key, stitch_H5P_DEFAULT())
    guard d >= 0 else { return nil }
    defer { H5Dclose(d) }
    let type = H5Dget_type(d)
    defer { H5Tclose(type) }
    guard H5Tget_class(type) == H5T_STRING else { return nil }
    if H5Tis_variable_str(type) > 0 {
      var pointer: UnsafeMutablePointer<CChar>? = nil
      let memType = H5Tcopy(stitch_H5T_C_S1())
      H5Tset_size(memType, Int(bitPattern: UInt(bitPattern: -1)))  // H5T_VARIABLE
      defer { H5Tclose(memType) }
      guard H5Dread(d, memType, stitch_H5S_ALL(), stitch_H5S_ALL(), stitch_H5P_DEFAULT(), &pointer) >= 0, let pointer else { return nil }
      defer { free(pointer) }
      return String(cString: pointer)
    }
    let size = H5Tget_size(type)
    var buffer = [CChar](repeating: 0, count: size + 1)
    guard H5Dread(d, type, stitch_H5S_ALL(), stitch_H5S_ALL(), stitch_H5P_DEFAULT(), &buffer) >= 0 else { return nil }
    return String(cString: buffer)
  }

  // MARK: Writing

  /// Creates intermediate groups of `key` ("metadata/policy/x" needs "metadata" and "metadata/policy").
  func makeGroups(for key: String) {
    var prefix = ""
    for part in key.split(separator: "/").dropLast() {
      prefix += (prefix.isEmpty ? "" : "/") + part
      if H5Lexists(id, prefix, stitch_H5P_DEFAULT()) <= 0 {
        let g = H5Gcreate2(id, prefix, stitch_H5P_DEFAULT(), stitch_H5P_DEFAULT(), stitch_H5P_DEFAULT())
        if g >= 0 { H5Gclose(g) }
      }
    }
  }

  /// Writes a float32 dataset, gzip-compressed (level 4, chunked by rows) as D4RL's writer does.
  func writeFloats(_ key: String, shape: [Int], values: UnsafeBufferPointer<Float>) throws {
    try write(key, shape: shape, memType: stitch_H5T_NATIVE_FLOAT(), fileType: stitch_H5T_IEEE_F32LE(), data: UnsafeRawPointer(values.baseAddress))
  }

  /// Writes a float64 dataset (gzip-compressed, chunked like `writeFloats`).
  func writeDoubles(_ key: String, shape: [Int], values: [Double]) throws {
    try values.withUnsafeBytes { try write(key, shape: shape, memType: stitch_H5T_NATIVE_DOUBLE(), fileType: stitch_H5T_IEEE_F64LE(), data: $0.baseAddress) }
  }

  /// Creates a group (and its parents) if missing.
  func makeGroup(_ path: String) {
    makeGroups(for: path + "/x")
  }

  /// Writes an int64 scalar attribute on a group.
  func writeAttribute(_ group: String, _ name: String, _ value: Int64) throws {
    let g = H5Gopen2(id, group, stitch_H5P_DEFAULT())
    guard g >= 0 else { throw HDF5Error.writeFailed(file: path, detail: "no group \(group)") }
    defer { H5Gclose(g) }
    let space = H5Screate(H5S_SCALAR)
    defer { H5Sclose(space) }
    let a = H5Acreate2(g, name, stitch_H5T_NATIVE_INT64(), space, stitch_H5P_DEFAULT(), stitch_H5P_DEFAULT())
    guard a >= 0 else { throw HDF5Error.writeFailed(file: path, detail: "cannot create attribute \(group)@\(name)") }
    defer { H5Aclose(a) }
    var v = value
    guard H5Awrite(a, stitch_H5T_NATIVE_INT64(), &v) >= 0 else { throw HDF5Error.writeFailed(file: path, detail: "cannot write attribute \(group)@\(name)") }
  }

  /// Writes a boolean dataset as an HDF5 enum over int8 {FALSE=0, TRUE=1}, which h5py reads as NumPy bool.
  func writeBools(_ key: String, values: [Bool]) throws {
    let enumType = H5Tenum_create(stitch_H5T_NATIVE_INT8())
    defer { H5Tclose(enumType) }
    var f: Int8 = 0, t: Int8 = 1
    H5Tenum_insert(enumType, "FALSE", &f)
    H5Tenum_insert(enumType, "TRUE", &t)
    let raw = values.map { Int8($0 ? 1 : 0) }
    try raw.withUnsafeBytes { try write(key, shape: [values.count], memType: enumType, fileType: enumType, data: $0.baseAddress) }
  }

  /// Writes a scalar variable-length UTF-8 string dataset (h5py reads it as bytes/str).
  func writeString(_ key: String, _ value: String) throws {
    makeGroups(for: key)
    let type = H5Tcopy(stitch_H5T_C_S1())
    H5Tset_size(type, max(1, value.utf8.count))
    defer { H5Tclose(type) }
    let space = H5Screate(H5S_SCALAR)
    defer { H5Sclose(space) }
    let d = H5Dcreate2(id, key, type, space, stitch_H5P_DEFAULT(), stitch_H5P_DEFAULT(), stitch_H5P_DEFAULT())
    guard d >= 0 else { throw HDF5Error.writeFailed(file: path, detail: "cannot create dataset \(key)") }
    defer { H5Dclose(d) }
    var bytes = Array(value.utf8CString)
    guard H5Dwrite(d, type, stitch_H5S_ALL(), stitch_H5S_ALL(), stitch_H5P_DEFAULT(), &bytes) >= 0 else {
      throw HDF5Error.writeFailed(file: path, detail: "cannot write dataset \(key)")
    }
  }

  private func write(_ key: String, shape: [Int], memType: hid_t, fileType: hid_t, data: UnsafeRawPointer?) throws {
    makeGroups(for: key)
    var dims = shape.map { hsize_t($0) }
    let space = H5Screate_simple(Int32(dims.count), &dims, nil)
    defer { H5Sclose(space) }
    let plist = H5Pcreate(stitch_H5P_DATASET_CREATE())
    defer { H5Pclose(plist) }
    if let rows = shape.first, rows > 0 {
      var chunk = dims
      chunk[0] = hsize_t(min(rows, max(1, 65536 / max(1, shape.dropFirst().reduce(1, *)))))
      H5Pset_chunk(plist, Int32(chunk.count), &chunk)
      H5Pset_deflate(plist, 4)
    }
    let d = H5Dcreate2(id, key, fileType, space, stitch_H5P_DEFAULT(), plist, stitch_H5P_DEFAULT())
    guard d >= 0 else { throw HDF5Error.writeFailed(file: path, detail: "cannot create dataset \(key)") }
    defer { H5Dclose(d) }
    if shape.reduce(1, *) > 0 {
      guard H5Dwrite(d, memType, stitch_H5S_ALL(), stitch_H5S_ALL(), stitch_H5P_DEFAULT(), data) >= 0 else {
        throw HDF5Error.writeFailed(file: path, detail: "cannot write dataset \(key)")
      }
    }
  }
}
