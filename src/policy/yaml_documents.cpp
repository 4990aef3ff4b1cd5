#include "policy/yaml_documents.h"

#include <yaml-cpp/eventhandler.h>

#include <sstream>

namespace airlock::policy {
namespace {

// Records only how a document begins: whether its root is empty, and where.
class DocumentRoot final : public YAML::EventHandler {
 public:
  bool is_null() const { return root_is_null_; }
  const YAML::Mark& mark() const { return root_mark_; }

  void OnDocumentStart(const YAML::Mark& mark) override {
    seen_root_ = false;
    root_is_null_ = true;
    root_mark_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override { note(mark, true); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t /*anchor*/) override { note(mark, false); }
  void OnScalar(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                const std::string& /*value*/) override {
    note(mark, false);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/,
                       YAML::anchor_t /*anchor*/, YAML::EmitterStyle::value /*style*/) override {
    note(mark, false);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t /*anchor*/,
                  YAML::EmitterStyle::value /*style*/) override {
    note(mark, false);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& mark, bool is_null) {
    if (seen_root_) return;
    seen_root_ = true;
    root_is_null_ = is_null;
    root_mark_ = mark;
  }

  bool seen_root_ = false;
  bool root_is_null_ = true;
  YAML::Mark root_mark_ = YAML::Mark::null_mark();
};

bool same_place(const YAML::Mark& a, const YAML::Mark& b) {
  return a.pos == b.pos && a.line == b.line && a.column == b.column;
}

}  // namespace

FirstDocument read_first_document(const std::string& text) {
  // First pass over events only: every document but the first must be empty. Two empty
  // documents in a row at the same place mean the parser consumed nothing (the LoadAll loop).
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentRoot root;
  FirstDocument result;
  std::optional<YAML::Mark> previous_empty;
  for (int index = 0; parser.HandleNextDocument(root); ++index) {
    if (root.is_null()) {
      if (previous_empty && same_place(*previous_empty, root.mark())) {
        throw YAML::ParserException(root.mark(), "unexpected character here; it starts no value");
      }
      previous_empty = root.mark();
    } else if (index > 0) {
      result.second_document = root.mark();
      break;
    }
  }
  // Second pass builds the nodes; Load reads exactly one document and so cannot loop.
  result.root = YAML::Load(text);
  return result;
}

}  // namespace airlock::policy
