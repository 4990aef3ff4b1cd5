// The audit log's hash chain: written by AuditLog (threads, processes, several objects on one
// file), checked by the verifier, which must name the edited line for every kind of edit.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_chain.h"
#include "audit/audit_log.h"
#include "audit/chain_verifier.h"

namespace airlock::audit {
namespace {

class AuditChainTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/airlock-audit-chain-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    directory_ = pattern;
    path_ = directory_ + "/audit.jsonl";
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  static AuditLog open_log(const std::string& path, const std::string& id = "test-id") {
    Result<AuditLog> log = AuditLog::open(path, "chain-test", id);
    if (!log) ADD_FAILURE() << log.error().message;
    return std::move(log).value();
  }

  void record_events(int count, const std::string& id = "test-id") const {
    const AuditLog log = open_log(path_, id);
    for (int i = 0; i < count; ++i) log.record("test.event", {{"index", i}, {"host", "a.test"}});
  }

  std::vector<std::string> lines() const {
    std::ifstream in(path_, std::ios::binary);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  // Writes `content` whole: the lines joined with '\n', and a final '\n' unless told otherwise.
  void rewrite(const std::vector<std::string>& content, bool final_newline = true) const {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    for (size_t i = 0; i < content.size(); ++i) {
      out << content[i];
      if (i + 1 < content.size() || final_newline) out << '\n';
    }
  }

  ChainVerdict verify(std::optional<std::string> pinned = std::nullopt) const {
    std::ifstream in(path_, std::ios::binary);
    return verify_chain(in, std::move(pinned));
  }

  // The verifier must find the edit, name `line` and explain it with `words`.
  void expect_break(uint64_t line, const std::string& words) const {
    const ChainVerdict verdict = verify();
    EXPECT_FALSE(verdict.intact) << "the edit went unnoticed";
    EXPECT_EQ(verdict.broken_line, line) << verdict.problem;
    EXPECT_NE(verdict.problem.find(words), std::string::npos) << verdict.problem;
  }

  std::string directory_;
  std::string path_;
};

nlohmann::json parsed(const std::string& line) {
  return nlohmann::json::parse(line);
}

TEST_F(AuditChainTest, EveryLineCarriesSeqAndThePreviousLinesHash) {
  record_events(3);
  const std::vector<std::string> written = lines();
  ASSERT_EQ(written.size(), 3u);
  EXPECT_EQ(parsed(written[0])["seq"], 1);
  EXPECT_EQ(parsed(written[0])["prev"], std::string(kFirstPrev));
  EXPECT_EQ(parsed(written[1])["seq"], 2);
  EXPECT_EQ(parsed(written[1])["prev"], sha256_hex(written[0]));
  EXPECT_EQ(parsed(written[2])["prev"], sha256_hex(written[1]));
  EXPECT_EQ(parsed(written[2])["event"], "test.event");
  EXPECT_EQ(parsed(written[2])["sandbox"]["id"], "test-id");
}

// The chain fields lead, so the event's own keys keep the sorted order scripts already match.
TEST_F(AuditChainTest, ChainFieldsComeFirstAndTheEventsKeysKeepTheirOrder) {
  record_events(2);
  const std::vector<std::string> written = lines();
  const std::string head = R"({"seq":2,"prev":")" + sha256_hex(written[0]) + "\",";
  ASSERT_EQ(written[1].substr(0, head.size()), head);
  nlohmann::json event = parsed(written[1]);
  event.erase("seq");
  event.erase("prev");
  EXPECT_EQ("{" + written[1].substr(head.size()), event.dump());
  EXPECT_EQ(chain_line(ChainPosition{}, "{}"),
            R"({"seq":1,"prev":")" + std::string(kFirstPrev) + "\"}");
}

TEST_F(AuditChainTest, Sha256IsTheStandardDigest) {
  // FIPS 180-2's "abc" example, so `sha256sum` elsewhere agrees with what verify prints.
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_F(AuditChainTest, FieldsCannotReplaceTheChainFields) {
  const AuditLog log = open_log(path_);
  log.record("test.event", {{"seq", 99}, {"prev", "forged"}});
  log.record("test.event", {{"seq", 99}});
  EXPECT_EQ(parsed(lines()[1])["seq"], 2);
  EXPECT_TRUE(verify().intact);
}

TEST_F(AuditChainTest, ACleanLogPasses) {
  record_events(10);
  const ChainVerdict verdict = verify();
  EXPECT_TRUE(verdict.intact) << verdict.broken_line << ": " << verdict.problem;
  EXPECT_EQ(verdict.lines, 10u);
  EXPECT_EQ(verdict.last_seq, 10u);
  EXPECT_EQ(verdict.last_sha256, sha256_hex(lines().back()));
}

TEST_F(AuditChainTest, AnEmptyFileIsAnIntactLogOfNoEvents) {
  rewrite({}, false);
  const ChainVerdict verdict = verify();
  EXPECT_TRUE(verdict.intact);
  EXPECT_EQ(verdict.lines, 0u);
}

TEST_F(AuditChainTest, AChangedByteIsReportedAtTheEditedLine) {
  record_events(10);
  const std::vector<std::string> original = lines();
  for (size_t edited : {0u, 3u, 8u}) {
    std::vector<std::string> content = original;
    const size_t at = content[edited].find("a.test");
    ASSERT_NE(at, std::string::npos);
    content[edited][at] = 'b';  // still valid JSON: only the chain can tell
    rewrite(content);
    expect_break(edited + 1, "edited");
  }
}

TEST_F(AuditChainTest, AChangedByteThatBreaksTheJsonIsReportedAtThatLine) {
  record_events(10);
  std::vector<std::string> content = lines();
  content[5].back() = ']';
  rewrite(content);
  expect_break(6u, "not a JSON object");
}

TEST_F(AuditChainTest, AnEditedSeqIsReportedAtThatLine) {
  record_events(10);
  std::vector<std::string> content = lines();
  const size_t at = content[6].find("\"seq\":7");
  ASSERT_NE(at, std::string::npos);
  content[6][at + 6] = '8';
  rewrite(content);
  expect_break(7u, "seq 8, expected 7");
}

TEST_F(AuditChainTest, AnEditedPrevIsReportedAtThatLine) {
  record_events(10);
  std::vector<std::string> content = lines();
  const size_t at = content[4].find("\"prev\":\"");
  ASSERT_NE(at, std::string::npos);
  char& digit = content[4][at + 8];
  digit = digit == '0' ? '1' : '0';
  rewrite(content);
  expect_break(5u, "edited: its prev does not match line 4");
}

TEST_F(AuditChainTest, AnEditedLastLineIsCaughtOnlyByTheShippedHash) {
  record_events(5);
  const std::string shipped = verify().last_sha256;
  std::vector<std::string> content = lines();
  content[4].replace(content[4].find("a.test"), 6, "b.test");
  rewrite(content);
  EXPECT_TRUE(verify().intact) << "nothing follows the last line to record its hash";
  const ChainVerdict pinned = verify(shipped);
  EXPECT_FALSE(pinned.intact);
  EXPECT_EQ(pinned.broken_line, 0u);
  EXPECT_NE(pinned.problem.find(shipped), std::string::npos) << pinned.problem;
}

TEST_F(AuditChainTest, AShippedHashStillMatchesAfterTheLogGrew) {
  record_events(3);
  const std::string shipped = verify().last_sha256;
  record_events(2);
  EXPECT_TRUE(verify(shipped).intact);
}

TEST_F(AuditChainTest, TruncatingTheTailIsCaughtOnlyByTheShippedHash) {
  record_events(6);
  const std::string shipped = verify().last_sha256;
  std::vector<std::string> content = lines();
  content.resize(4);
  rewrite(content);
  EXPECT_TRUE(verify().intact);
  EXPECT_FALSE(verify(shipped).intact);
}

TEST_F(AuditChainTest, ADeletedLineIsReportedWhereTheSeqJumps) {
  record_events(10);
  std::vector<std::string> content = lines();
  content.erase(content.begin() + 4);
  rewrite(content);
  expect_break(5u, "1 line deleted");
}

TEST_F(AuditChainTest, DeletingTheFirstLinesIsReportedAtLineOne) {
  record_events(10);
  std::vector<std::string> content = lines();
  content.erase(content.begin(), content.begin() + 2);
  rewrite(content);
  expect_break(1u, "starts at seq 3");
}

TEST_F(AuditChainTest, TwoSwappedLinesAreReportedAtTheFirstOfThem) {
  record_events(10);
  const std::vector<std::string> original = lines();
  for (size_t first : {0u, 5u, 8u}) {
    std::vector<std::string> content = original;
    std::swap(content[first], content[first + 1]);
    rewrite(content);
    expect_break(first + 1, "swapped");
  }
}

TEST_F(AuditChainTest, ALineMovedLaterIsReportedWhereTheOrderBreaks) {
  record_events(10);
  std::vector<std::string> content = lines();
  const std::string moved = content[2];
  content.erase(content.begin() + 2);
  content.insert(content.begin() + 7, moved);
  rewrite(content);
  expect_break(3u, "seq 4 follows seq 2");
}

TEST_F(AuditChainTest, AnInsertedLineIsReportedAtItsLine) {
  record_events(10);
  const std::vector<std::string> original = lines();

  std::vector<std::string> by_hand = original;
  by_hand.insert(by_hand.begin() + 6, R"({"event":"sandbox.exit","status":0})");
  rewrite(by_hand);
  expect_break(7u, "no seq or prev");

  std::vector<std::string> duplicated = original;
  duplicated.insert(duplicated.begin() + 3, original[2]);
  rewrite(duplicated);
  expect_break(4u, "a copy of line 3");

  // A forger who knows the format: the right seq and the previous line's hash. The next line
  // still chains from the line before the forgery.
  nlohmann::json forged = parsed(original[3]);
  forged["seq"] = 4;
  forged["prev"] = sha256_hex(original[2]);
  forged["host"] = "forged.test";
  std::vector<std::string> crafted = original;
  crafted.insert(crafted.begin() + 3, forged.dump());
  rewrite(crafted);
  expect_break(4u, "inserted");

  // The same forgery with a wrong prev is caught at the forged line too.
  forged["prev"] = sha256_hex("something else");
  crafted[3] = forged.dump();
  rewrite(crafted);
  expect_break(4u, "inserted");
}

TEST_F(AuditChainTest, ALineCutShortInTheMiddleIsReportedAtThatLine) {
  record_events(10);
  std::vector<std::string> content = lines();
  content[4].resize(content[4].size() / 2);
  rewrite(content);
  expect_break(5u, "cut short");
}

TEST_F(AuditChainTest, AFileCutMidLineIsReportedAtItsLastLine) {
  record_events(4);
  std::vector<std::string> content = lines();
  content[3].resize(content[3].size() / 2);
  rewrite(content, false);
  expect_break(4u, "no newline");
}

TEST_F(AuditChainTest, AppendingToAnExistingFileContinuesItsChain) {
  record_events(3, "first-sandbox");
  record_events(3, "second-sandbox");
  const std::vector<std::string> written = lines();
  ASSERT_EQ(written.size(), 6u);
  EXPECT_EQ(parsed(written[3])["seq"], 4);
  EXPECT_EQ(parsed(written[3])["prev"], sha256_hex(written[2]));
  const ChainVerdict verdict = verify();
  EXPECT_TRUE(verdict.intact) << verdict.broken_line << ": " << verdict.problem;
  EXPECT_EQ(verdict.last_seq, 6u);
}

TEST_F(AuditChainTest, AWriterAfterACrashedWritersPartialLineKeepsItsOwnLine) {
  record_events(3);
  { std::ofstream(path_, std::ios::binary | std::ios::app) << R"({"event":"test.ev)"; }
  record_events(2);
  const std::vector<std::string> written = lines();
  ASSERT_EQ(written.size(), 6u);
  EXPECT_EQ(written[3], R"({"event":"test.ev)");
  EXPECT_EQ(parsed(written[4])["prev"], sha256_hex(written[3]));
  const ChainVerdict verdict = verify();
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.broken_line, 4u);
  EXPECT_NE(verdict.problem.find("cut short"), std::string::npos) << verdict.problem;
}

TEST_F(AuditChainTest, LinesFromBeforeTheChainAreReportedAsNotCovered) {
  rewrite({R"({"event":"sandbox.start","time":"t1"})", R"({"event":"sandbox.exit","time":"t2"})"});
  record_events(2);
  const std::vector<std::string> written = lines();
  EXPECT_EQ(parsed(written[2])["seq"], 1);
  EXPECT_EQ(parsed(written[2])["prev"], sha256_hex(written[1]));
  const ChainVerdict verdict = verify();
  EXPECT_FALSE(verdict.intact);
  EXPECT_EQ(verdict.broken_line, 1u);
  EXPECT_NE(verdict.problem.find("lines 1-2 carry no seq or prev"), std::string::npos)
      << verdict.problem;
  EXPECT_NE(verdict.problem.find("the chain from line 3 holds"), std::string::npos)
      << verdict.problem;

  // An edit inside the chain is the worse news, and is reported instead.
  std::vector<std::string> content = written;
  content[2].replace(content[2].find("a.test"), 6, "b.test");
  rewrite(content);
  expect_break(3u, "edited");
}

TEST_F(AuditChainTest, TwoLogsOnOneFileInterleaveIntoOneChain) {
  const AuditLog first = open_log(path_, "first");
  const AuditLog second = open_log(path_, "second");
  for (int i = 0; i < 20; ++i) {
    first.record("test.event", {{"index", i}});
    second.record("test.event", {{"index", i}});
    if (i % 3 == 0) second.record("test.event", {{"extra", i}});
  }
  const ChainVerdict verdict = verify();
  EXPECT_TRUE(verdict.intact) << verdict.broken_line << ": " << verdict.problem;
  EXPECT_EQ(verdict.lines, 47u);
}

// Forked processes (each with its own AuditLog::open, two threads each) and threads of this
// process (sharing one AuditLog, plus a second object) all append at once.
TEST_F(AuditChainTest, ThreadsAndProcessesAppendingAtOnceKeepOneChain) {
  constexpr uint64_t kChildren = 3;
  constexpr size_t kThreads = 2;
  constexpr int kEvents = 150;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (uint64_t child = 0; child < kChildren; ++child) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char byte = 0;
      if (::read(go[0], &byte, 1) < 0) ::_exit(3);  // EOF: the parent says go
      Result<AuditLog> log = AuditLog::open(path_, "child", std::to_string(child));
      if (!log) ::_exit(2);
      std::vector<std::thread> threads;
      threads.reserve(kThreads);
      for (size_t t = 0; t < kThreads; ++t) {
        threads.emplace_back([&log, t] {
          for (int i = 0; i < kEvents; ++i) log->record("child.event", {{"thread", t}, {"i", i}});
        });
      }
      for (std::thread& thread : threads) thread.join();
      ::_exit(0);
    }
    children.push_back(pid);
  }
  ::close(go[0]);

  const AuditLog shared = open_log(path_, "parent");
  const AuditLog other = open_log(path_, "parent-other");
  std::atomic<bool> start{false};
  std::vector<std::thread> threads;
  threads.reserve(3 * kThreads);
  for (size_t t = 0; t < kThreads; ++t) {
    for (const AuditLog* log : {&shared, &shared, &other}) {
      threads.emplace_back([log, t, &start] {
        while (!start.load()) std::this_thread::yield();
        for (int i = 0; i < kEvents; ++i) log->record("parent.event", {{"thread", t}, {"i", i}});
      });
    }
  }
  ::close(go[1]);
  start.store(true);
  for (std::thread& thread : threads) thread.join();
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }

  const ChainVerdict verdict = verify();
  EXPECT_TRUE(verdict.intact) << verdict.broken_line << ": " << verdict.problem;
  const uint64_t expected = (kChildren + 3) * kThreads * kEvents;  // 3: the parent's threads
  EXPECT_EQ(verdict.lines, expected);
  EXPECT_EQ(verdict.last_seq, expected);
}

TEST_F(AuditChainTest, AnUnreadableStreamIsNotAnEmptyLog) {
  std::ifstream directory(directory_, std::ios::binary);
  const ChainVerdict verdict = verify_chain(directory);
  EXPECT_FALSE(verdict.intact);
  EXPECT_NE(verdict.read_errno, 0);
}

}  // namespace
}  // namespace airlock::audit
