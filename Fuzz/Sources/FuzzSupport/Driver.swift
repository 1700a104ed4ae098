import Foundation

/// libFuzzer's entry point for programs that have their own `main` (FuzzerInterface.h, LLVM 11 and later).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
  _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
  _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

/// Runs libFuzzer over `harness` with this process's command line (libFuzzer's flags and corpus folders).
///
/// SwiftPM links an executable target's entry point under its own name (`<Target>_main`), so libFuzzer's `main` is
/// never linked; each harness's main.swift calls this instead. The Swift runtime's backtracer is turned off by
/// `scripts/fuzz` (SWIFT_BACKTRACE=enable=no): with ASan it hangs on a trap instead of letting libFuzzer report it.
public func runFuzzer(_ harness: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
  var argc = CommandLine.argc
  var argv = CommandLine.unsafeArgv
  exit(LLVMFuzzerRunDriver(&argc, &argv, harness))
}

/// One byte that the empty input points at.
nonisolated(unsafe) private let emptyInput = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)

/// The input as a non-null pointer (libFuzzer may pass null for the empty input).
public func bytes(_ data: UnsafePointer<UInt8>?) -> UnsafePointer<UInt8> { data ?? UnsafePointer(emptyInput) }
