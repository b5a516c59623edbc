//===- Sites.h - allocation sites as both LLAMA passes see them -----------===//
//
// The profiling build (InstrumentPass) and the use build (UseAnnotatePass,
// UseRewritePass) must agree
// exactly on which calls are allocation sites and on each site's id: the use
// build finds a site's profile by recomputing the id the profiling build
// gave it. Both therefore take their sites from forEachSite() and their ids
// from describeSite(), defined once in Sites.cpp. Both also replace a site's
// call by an entry point of their runtime, with replaceAllocCall(). Every
// site the profiling build finds, with its id, is in the descriptors of
// (build: the CMake build directory)
//
//   opt-19 -load-pass-plugin=build/lib/LlamaPass.so -passes=llama-instrument in.ll -S
//
//===----------------------------------------------------------------------===//
#ifndef LLAMA_PASS_SITES_H
#define LLAMA_PASS_SITES_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/IR/InstrTypes.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"

#include <cstdint>
#include <string>
#include <vector>

namespace llama {

// -llama-verbose: a summary line per module on stderr.
extern llvm::cl::opt<bool> ClVerbose;

// One function the passes rewrite (include/llama/abi.h, LLAMA_ALLOC_FUNCTIONS).
struct AllocFunction {
  const char *Symbol;
  const char *ShortName;
  unsigned Kind;
  bool Dealloc;
};

// One frame of a call's inline chain, innermost first.
struct SiteFrame {
  std::string Function; // linkage name
  uint32_t LineOffset;  // line - first line of Function, or call ordinal
  uint32_t Column;      // or LLAMA_SITE_ORDINAL_COLUMN
};

struct Site {
  llvm::CallBase *Call = nullptr;
  const AllocFunction *Fn = nullptr;
  uint64_t Id = 0;
  std::vector<SiteFrame> Frames;
  std::string File;
  uint32_t Line = 0;
  uint16_t Flags = 0;
};

// Calls Fn(Call, AllocFunction, Ordinal) for every direct call or invoke of an
// allocation or deallocation function in M, in a deterministic order. Ordinal
// counts the sites of the enclosing function (the id of sites without debug
// locations).
void forEachSite(llvm::Module &M,
                 llvm::function_ref<void(llvm::CallBase &, const AllocFunction &, unsigned)> Fn);

// Fills S.Frames, S.File, S.Line, S.Flags and S.Id from the call's debug
// location (or its ordinal when it has none).
void describeSite(Site &S, const llvm::Function &F, unsigned Ordinal);

// The frames of any instruction's inline chain, innermost first; empty
// without a debug location.
std::vector<SiteFrame> framesOf(const llvm::Instruction &I);

// Replaces the allocation call CB by a call of the function EntryName with
// Args (an invoke with CB's destinations if CB is one) and returns the new
// call; CB is erased. The entry point's type is CB's result type and the
// types of Args. The new call takes over CB's name, uses, operand bundles,
// calling convention, metadata, debug location, result attributes (noalias,
// nonnull, align, dereferenceable) and function attributes except those that
// make LLVM treat a call as the library function itself (builtin, nobuiltin,
// allockind, allocsize, alloc-family). CB's parameter attributes are kept
// when KeepParamAttrs (Args start with CB's arguments, unchanged), dropped
// otherwise. The new call has no tail-call kind: the caller sets it.
llvm::CallBase *replaceAllocCall(llvm::CallBase &CB, llvm::StringRef EntryName,
                                 llvm::ArrayRef<llvm::Value *> Args, bool KeepParamAttrs);

// FNV-1a over frames, as llama_hash_frame (include/llama/abi.h).
uint64_t hashFrames(const std::vector<SiteFrame> &Frames);
uint64_t hashFrame(llvm::StringRef Function, uint32_t LineOffset, uint32_t Column);

} // namespace llama

#endif // LLAMA_PASS_SITES_H
