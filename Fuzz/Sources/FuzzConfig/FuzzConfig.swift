import FuzzSupport
import Stitch

/// Fuzzes configuration files: the first input byte picks the format (TOML or JSON, by the file's extension, as
/// `ConfigResolver` chooses) and the algorithm whose defaults the file overrides; the rest is the file, resolved
/// with `ConfigResolver.resolve(defaults, file:)` as `stitch train --config FILE` does (FlatTOML or
/// ConfigValue.parseJSONObject, key matching, type conversion, range checks, decoding).
let toml = ScratchFile("config.toml"), json = ScratchFile("config.json")

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ input: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
  let data = bytes(input)
  guard size > 0 else { return 0 }
  let selector = data[0]
  let file = selector & 1 == 0 ? toml : json
  file.write(data + 1, size - 1)
  switch (selector >> 1) % 8 {
  case 0: _ = try? ConfigResolver.resolve(TD3BC.defaultConfiguration, file: file.url)
  case 1: _ = try? ConfigResolver.resolve(IQL.defaultConfiguration, file: file.url)
  case 2: _ = try? ConfigResolver.resolve(CQL.defaultConfiguration, file: file.url)
  case 3: _ = try? ConfigResolver.resolve(ReBRAC.defaultConfiguration, file: file.url)
  case 4: _ = try? ConfigResolver.resolve(BC.defaultConfiguration, file: file.url)
  case 5: _ = try? ConfigResolver.resolve(SACN.defaultConfiguration, file: file.url)
  case 6: _ = try? ConfigResolver.resolve(EDAC.defaultConfiguration, file: file.url)
  default: _ = try? ConfigResolver.resolve(SAC.defaultConfiguration, file: file.url)
  }
  return 0
}
