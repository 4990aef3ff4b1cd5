#include "egress/nftables_ruleset.h"

#include <nftables/libnftables.h>

#include <memory>

#include "common/shared_library.h"

namespace airlock::egress {
namespace {

struct NftablesFunctions {
  decltype(&nft_ctx_new) ctx_new;
  decltype(&nft_ctx_free) ctx_free;
  decltype(&nft_ctx_buffer_error) ctx_buffer_error;
  decltype(&nft_ctx_get_error_buffer) ctx_get_error_buffer;
  decltype(&nft_run_cmd_from_buffer) run_cmd_from_buffer;
  decltype(&nft_ctx_output_set_flags) output_set_flags;
  decltype(&nft_ctx_buffer_output) buffer_output;
  decltype(&nft_ctx_get_output_buffer) get_output_buffer;
};

Result<NftablesFunctions> open_functions() {
  Result<SharedLibrary> library = SharedLibrary::open("libnftables.so.1", "libnftables1");
  if (!library) return library.error();
  NftablesFunctions nft{};
  const Status bound[] = {
      library->bind("nft_ctx_new", &nft.ctx_new),
      library->bind("nft_ctx_free", &nft.ctx_free),
      library->bind("nft_ctx_buffer_error", &nft.ctx_buffer_error),
      library->bind("nft_ctx_get_error_buffer", &nft.ctx_get_error_buffer),
      library->bind("nft_run_cmd_from_buffer", &nft.run_cmd_from_buffer),
      library->bind("nft_ctx_output_set_flags", &nft.output_set_flags),
      library->bind("nft_ctx_buffer_output", &nft.buffer_output),
      library->bind("nft_ctx_get_output_buffer", &nft.get_output_buffer),
  };
  for (const Status& step : bound)
    if (!step) return step.error();
  return nft;
}

// Opened at most once per process; a forked helper inherits the opened library.
const Result<NftablesFunctions>& nftables() {
  static const Result<NftablesFunctions> functions = open_functions();
  return functions;
}

std::string one_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  for (char& c : text) c = c == '\n' ? ' ' : c;
  return text;
}

// One nft transaction; with `json`, what nft printed, as JSON.
Result<std::string> run_nftables(const std::string& commands, bool json) {
  if (!nftables()) return nftables().error();
  const NftablesFunctions& nft = *nftables();
  std::unique_ptr<nft_ctx, decltype(nft.ctx_free)> context(nft.ctx_new(NFT_CTX_DEFAULT),
                                                           nft.ctx_free);
  if (context == nullptr) return Error{"cannot create an nftables context"};
  nft.ctx_buffer_error(context.get());
  if (json) {
    nft.buffer_output(context.get());
    nft.output_set_flags(context.get(), NFT_CTX_OUTPUT_JSON);
  }
  if (nft.run_cmd_from_buffer(context.get(), commands.c_str()) != 0) {
    return Error{one_line(nft.ctx_get_error_buffer(context.get()))};
  }
  return json ? std::string(nft.get_output_buffer(context.get())) : std::string();
}

}  // namespace

Status open_nftables_library() {
  if (!nftables()) return nftables().error();
  return ok_status();
}

Status load_nftables_ruleset(const std::string& ruleset) {
  Result<std::string> ran = run_nftables(ruleset, false);
  if (!ran) return ran.error();
  return ok_status();
}

Result<std::string> nftables_json(const std::string& command) {
  return run_nftables(command, true);
}

}  // namespace airlock::egress
