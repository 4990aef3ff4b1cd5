// The relayed client->origin stream of a keep-alive connection: every request head in it is
// found (so each Host is checked, THREATS.md bypass 1), bodies are skipped exactly as the origin
// will skip them, and framing the two could read differently stops the stream (bypass 7).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "wire/http_request_stream.h"

namespace airlock::egress {
namespace {

using ::testing::HasSubstr;

struct Followed {
  std::vector<HttpRequestHead> heads;
  size_t body_bytes = 0;
  bool invalid = false;
  int http_status = 0;
  std::string problem;
};

// Feeds `stream` cut at `cuts` (ascending offsets) and gathers what came out.
Followed follow(const std::string& stream, const std::vector<size_t>& cuts = {}) {
  HttpRequestStream follower;
  Followed result;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    HttpRequestStream::Fed fed = follower.feed(std::string_view(stream).substr(start, end - start));
    start = end;
    for (HttpRequestHead& head : fed.heads) result.heads.push_back(std::move(head));
    result.body_bytes += fed.body_bytes;
    if (fed.invalid) {
      EXPECT_FALSE(fed.problem.empty());
      EXPECT_EQ(fed.problem.find('\n'), std::string::npos) << fed.problem;
      result.invalid = true;
      result.http_status = fed.http_status;
      result.problem = fed.problem;
    } else {
      EXPECT_FALSE(result.invalid) << "the stream became valid again";
    }
  }
  return result;
}

Followed follow_bytewise(const std::string& stream) {
  std::vector<size_t> cuts;
  cuts.reserve(stream.size());
  for (size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  return follow(stream, cuts);
}

std::vector<std::string> hosts_of(const Followed& followed) {
  std::vector<std::string> hosts;
  for (const HttpRequestHead& head : followed.heads) hosts.push_back(head.host_header);
  return hosts;
}

std::string invalid_problem(const std::string& stream, int status = 400) {
  Followed followed = follow(stream);
  EXPECT_TRUE(followed.invalid) << stream;
  EXPECT_EQ(followed.http_status, status) << followed.problem;
  Followed bytewise = follow_bytewise(stream);
  EXPECT_TRUE(bytewise.invalid);
  EXPECT_EQ(bytewise.problem, followed.problem);
  EXPECT_EQ(bytewise.heads.size(), followed.heads.size());
  return followed.problem;
}

const std::string kGetA = "GET /1 HTTP/1.1\r\nHost: a.example\r\n\r\n";
const std::string kGetB = "GET /2 HTTP/1.1\r\nHost: b.example\r\n\r\n";

std::string chunked_post(const std::string& host, const std::string& chunks) {
  return "POST /c HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks;
}

TEST(HttpStream, EveryRequestOnAKeepAliveConnectionIsSeen) {
  Followed followed = follow(kGetA + kGetB + kGetA);
  EXPECT_FALSE(followed.invalid) << followed.problem;
  EXPECT_EQ(hosts_of(followed), (std::vector<std::string>{"a.example", "b.example", "a.example"}));
  EXPECT_EQ(followed.body_bytes, 0U);
  EXPECT_EQ(followed.heads[1].target, "/2");
  EXPECT_EQ(followed.heads[1].head_length, kGetB.size());
}

TEST(HttpStream, HeadsEqualTheOneShotParse) {
  const std::string post =
      "POST http://a.example/x HTTP/1.1\r\nHost: a.example\r\n"
      "Content-Length: 3\r\nX-A:  v \r\n\r\n";
  Followed followed = follow(post + "abc" + kGetB);
  ASSERT_EQ(followed.heads.size(), 2U);
  EXPECT_EQ(followed.heads[0], parse_http_request_head(post).head);
  EXPECT_EQ(followed.heads[1], parse_http_request_head(kGetB).head);
}

TEST(HttpStream, ContentLengthBodyIsSkippedNotParsed) {
  // The body holds what looks like a request to another host: it is body, not a request.
  const std::string smuggled = "GET /admin HTTP/1.1\r\nHost: evil.example\r\n\r\n";
  const std::string post =
      "POST /x HTTP/1.1\r\nHost: a.example\r\nContent-Length: " + std::to_string(smuggled.size()) +
      "\r\n\r\n" + smuggled;
  Followed followed = follow(post + kGetB);
  EXPECT_FALSE(followed.invalid) << followed.problem;
  EXPECT_EQ(hosts_of(followed), (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(followed.body_bytes, smuggled.size());
}

TEST(HttpStream, ChunkedBodyIsSkippedNotParsed) {
  const std::string chunks =
      "5\r\nhello\r\n1b;name=value;flag\r\nGET / HTTP/1.1\r\nHost: e\r\n\r\n\r\n"
      "0\r\n\r\n";
  Followed followed = follow(chunked_post("a.example", chunks) + kGetB);
  EXPECT_FALSE(followed.invalid) << followed.problem;
  EXPECT_EQ(hosts_of(followed), (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_TRUE(followed.heads[0].chunked);
  EXPECT_EQ(followed.body_bytes, chunks.size());
}

TEST(HttpStream, ChunkSizesAndExtensions) {
  for (const char* chunks :
       {"A\r\n0123456789\r\n0\r\n\r\n", "a\r\n0123456789\r\n0\r\n\r\n",
        "00000000000000000000001\r\nx\r\n0\r\n\r\n",
        "1;a=\"quoted; \\\"string\\\"\"\r\nx\r\n0\r\n\r\n", "0;last=1\r\n\r\n", "000\r\n\r\n"}) {
    Followed followed = follow(chunked_post("a.example", chunks) + kGetB);
    EXPECT_FALSE(followed.invalid) << chunks << ": " << followed.problem;
    EXPECT_EQ(followed.heads.size(), 2U) << chunks;
  }
}

TEST(HttpStream, TrailersAreCheckedAndSkipped) {
  Followed followed =
      follow(chunked_post("a.example", "1\r\nx\r\n0\r\nX-Sum: 1\r\nX-B: 2\r\n\r\n") + kGetB);
  EXPECT_FALSE(followed.invalid) << followed.problem;
  EXPECT_EQ(hosts_of(followed), (std::vector<std::string>{"a.example", "b.example"}));

  EXPECT_THAT(invalid_problem(chunked_post("a", "0\r\nX-Sum: 1\n\r\n")), HasSubstr("bare LF"));
  EXPECT_THAT(invalid_problem(chunked_post("a", "0\r\n X: folded\r\n\r\n")), HasSubstr("obs-fold"));
  EXPECT_THAT(invalid_problem(chunked_post("a", "0\r\nX : 1\r\n\r\n")), HasSubstr("whitespace"));
  for (const char* name : {"Content-Length", "transfer-encoding", "Host"}) {
    EXPECT_THAT(invalid_problem(chunked_post("a", std::string("0\r\n") + name + ": 1\r\n\r\n")),
                HasSubstr("in the trailer section"));
  }
  EXPECT_THAT(
      invalid_problem(chunked_post("a", "0\r\nX: " + std::string(20000, 'a') + "\r\n\r\n"), 431),
      HasSubstr("trailer section larger than"));
}

TEST(HttpStream, BareLfInAChunkLineIsInvalid) {
  EXPECT_THAT(invalid_problem(chunked_post("a.example", "5\nhello\r\n0\r\n\r\n")),
              HasSubstr("bare LF in a chunk-size line"));
  EXPECT_THAT(invalid_problem(chunked_post("a.example", "5\r\nhello\r\n0\n\r\n")),
              HasSubstr("bare LF in a chunk-size line"));
  EXPECT_THAT(invalid_problem(chunked_post("a.example", "5\rhello\r\n")),
              HasSubstr("CR not followed by LF"));
}

TEST(HttpStream, MalformedChunkLinesAreInvalid) {
  EXPECT_EQ(invalid_problem(chunked_post("a", "10000000000000000\r\n")), "chunk size overflows");
  // The largest size is accepted (its data is then still pending).
  Followed huge = follow(chunked_post("a", "ffffffffffffffff\r\nabc"));
  EXPECT_FALSE(huge.invalid) << huge.problem;
  for (const char* line :
       {"\r\n", "x\r\n", "-1\r\n", "+1\r\n", "0x5\r\n", " 5\r\n", "5 \r\n", "5 ;a\r\n", "5; a\r\n",
        "5;\r\n", "5;a=\r\n", "5;a=\"open\r\n", "5;a b\r\n", "5,6\r\n"}) {
    EXPECT_TRUE(follow(chunked_post("a", line)).invalid) << line;
  }
  EXPECT_THAT(invalid_problem(chunked_post("a", std::string(5000, '0') + "1\r\n")),
              HasSubstr("chunk-size line longer than"));
}

TEST(HttpStream, ChunkDataMustEndWithCrlf) {
  EXPECT_EQ(invalid_problem(chunked_post("a", "5\r\nhelloX\r\n0\r\n\r\n")),
            "chunk data not followed by CRLF");
  EXPECT_EQ(invalid_problem(chunked_post("a", "5\r\nhello\rX")), "chunk data not followed by CRLF");
  EXPECT_EQ(invalid_problem(chunked_post("a", "5\r\nhello\n0\r\n\r\n")),
            "chunk data not followed by CRLF");
}

TEST(HttpStream, InvalidHeadStopsTheStreamWithTheParsersVerdict) {
  const std::string bad =
      "GET / HTTP/1.1\r\nHost: b.example\r\nContent-Length: 1\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  Followed followed = follow(kGetA + bad + kGetA);
  ASSERT_EQ(followed.heads.size(), 1U);  // the one before it is still reported
  EXPECT_TRUE(followed.invalid);
  EXPECT_EQ(followed.problem, parse_http_request_head(bad).problem);
  EXPECT_EQ(
      invalid_problem(kGetA + "GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nHost: a\r\n\r\n", 501),
      "Transfer-Encoding 'gzip' is not supported (only chunked)");
  EXPECT_THAT(invalid_problem(kGetA + "GET / HTTP/1.1\nHost: a\r\n\r\n"), HasSubstr("bare LF"));
  EXPECT_THAT(invalid_problem(kGetA + "GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n"),
              HasSubstr("CR not followed by LF"));
  EXPECT_THAT(invalid_problem(kGetA + std::string("GET /\0 HTTP/1.1\r\n", 17)), HasSubstr("NUL"));
  EXPECT_THAT(invalid_problem(kGetA + "\r\n" + kGetB), HasSubstr("empty line before"));
  EXPECT_THAT(invalid_problem(kGetA + "GET /" + std::string(9000, 'a'), 414),
              HasSubstr("request line longer"));
  EXPECT_THAT(invalid_problem(kGetA + "GET / HTTP/1.1\r\nX: " + std::string(17000, 'a'), 431),
              HasSubstr("request head larger"));
}

TEST(HttpStream, InvalidIsSticky) {
  HttpRequestStream follower;
  HttpRequestStream::Fed fed = follower.feed("GET / HTTP/1.1\r\nHost: a\r\n\n");
  EXPECT_TRUE(fed.invalid);
  fed = follower.feed(kGetA);
  EXPECT_TRUE(fed.invalid);
  EXPECT_TRUE(fed.heads.empty());
  EXPECT_THAT(fed.problem, HasSubstr("bare LF"));
  EXPECT_FALSE(follower.at_request_boundary());
}

TEST(HttpStream, AtRequestBoundary) {
  HttpRequestStream follower;
  EXPECT_TRUE(follower.at_request_boundary());
  follower.feed("GET / HTTP/1.1\r\n");
  EXPECT_FALSE(follower.at_request_boundary());
  follower.feed("Host: a\r\n\r\n");
  EXPECT_TRUE(follower.at_request_boundary());
  follower.feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nx");
  EXPECT_FALSE(follower.at_request_boundary());
  HttpRequestStream::Fed fed = follower.feed("y");
  EXPECT_EQ(fed.body_bytes, 1U);
  EXPECT_TRUE(follower.at_request_boundary());
  follower.feed(chunked_post("a", "1\r\nx\r\n0\r\n"));
  EXPECT_FALSE(follower.at_request_boundary());
  follower.feed("\r\n");
  EXPECT_TRUE(follower.at_request_boundary());
}

TEST(HttpStream, MaxHeadBytesIsHonoured) {
  HttpRequestStream follower(64);
  HttpRequestStream::Fed fed =
      follower.feed("GET / HTTP/1.1\r\nHost: a.example\r\nX: " + std::string(40, 'a') + "\r\n\r\n");
  EXPECT_TRUE(fed.invalid);
  EXPECT_EQ(fed.http_status, 431);
}

TEST(HttpStream, AnySplitGivesTheSameHeads) {
  const std::string stream =
      kGetA + "POST /u HTTP/1.1\r\nHost: b.example:8080\r\nContent-Length: 10\r\n\r\n0123456789" +
      chunked_post("c.example", "3;x=y\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nX-T: 1\r\n\r\n") +
      "GET http://d.example/ HTTP/1.1\r\nHost: d.example\r\nConnection: close\r\n\r\n" +
      "GET / HTTP/1.0\r\n\r\n" + kGetB;
  const Followed whole = follow(stream);
  ASSERT_FALSE(whole.invalid) << whole.problem;
  EXPECT_EQ(hosts_of(whole), (std::vector<std::string>{"a.example", "b.example:8080", "c.example",
                                                       "d.example", "", "b.example"}));

  const Followed bytewise = follow_bytewise(stream);
  EXPECT_EQ(bytewise.heads, whole.heads);
  EXPECT_EQ(bytewise.body_bytes, whole.body_bytes);
  EXPECT_FALSE(bytewise.invalid);

  std::mt19937 random(20240601);  // fixed: a failure must be reproducible
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    cuts.reserve(12);
    const size_t count = std::uniform_int_distribution<size_t>(1, 12)(random);
    for (size_t i = 0; i < count; ++i) {
      cuts.push_back(std::uniform_int_distribution<size_t>(0, stream.size())(random));
    }
    std::sort(cuts.begin(), cuts.end());
    const Followed split = follow(stream, cuts);
    ASSERT_EQ(split.heads, whole.heads) << "round " << round;
    ASSERT_EQ(split.body_bytes, whole.body_bytes) << "round " << round;
    ASSERT_FALSE(split.invalid) << split.problem;
  }
}

// What a forward proxy does with the offsets: replace each head, pass body bytes through, and
// withhold a head until it is complete. Returns the output with every head as "<TARGET>", and
// checks that the withheld and located bytes of each head are exactly that head.
std::string replace_heads(const std::string& stream, const std::vector<size_t>& cuts) {
  HttpRequestStream follower;
  std::string out;
  std::string withheld;
  size_t start = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    const std::string_view part = std::string_view(stream).substr(start, end - start);
    start = end;
    HttpRequestStream::Fed fed = follower.feed(part);
    EXPECT_FALSE(fed.invalid) << fed.problem;
    EXPECT_EQ(fed.head_begins.size(), fed.heads.size());
    EXPECT_EQ(fed.head_ends.size(), fed.heads.size());
    size_t position = 0;
    for (size_t i = 0; i < fed.heads.size() && i < fed.head_ends.size(); ++i) {
      EXPECT_LE(position, fed.head_begins[i]);
      out.append(part.substr(position, fed.head_begins[i] - position));
      withheld.append(part.substr(fed.head_begins[i], fed.head_ends[i] - fed.head_begins[i]));
      EXPECT_EQ(withheld.size(), fed.heads[i].head_length);
      EXPECT_EQ(parse_http_request_head(withheld).head, fed.heads[i]);
      withheld.clear();
      out += "<" + fed.heads[i].target + ">";
      position = fed.head_ends[i];
    }
    if (fed.open_head_begin) {
      out.append(part.substr(position, *fed.open_head_begin - position));
      withheld.append(part.substr(*fed.open_head_begin));
    } else {
      out.append(part.substr(position));
    }
  }
  EXPECT_TRUE(withheld.empty());
  return out;
}

TEST(HttpStream, HeadOffsetsLetACallerReplaceHeads) {
  const std::string post = "POST /p HTTP/1.1\r\nHost: a.example\r\nContent-Length: 4\r\n\r\n";
  const std::string chunked = chunked_post("a.example", "2\r\nxy\r\n0\r\n\r\n");
  const std::string stream = kGetA + post + "body" + chunked + kGetB;
  const std::string expected = "</1></p>body</c>2\r\nxy\r\n0\r\n\r\n</2>";
  EXPECT_EQ(replace_heads(stream, {}), expected);
  std::vector<size_t> every;
  every.reserve(stream.size());
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  EXPECT_EQ(replace_heads(stream, every), expected);
  std::mt19937 random(99);
  for (int round = 0; round < 200; ++round) {
    std::vector<size_t> cuts;
    cuts.reserve(5);
    for (int i = 0; i < 5; ++i) {
      cuts.push_back(std::uniform_int_distribution<size_t>(0, stream.size())(random));
    }
    std::sort(cuts.begin(), cuts.end());
    ASSERT_EQ(replace_heads(stream, cuts), expected) << "round " << round;
  }
}

TEST(HttpStream, OpenHeadBegin) {
  HttpRequestStream follower;
  HttpRequestStream::Fed fed = follower.feed("GET / HT");
  EXPECT_EQ(fed.open_head_begin, 0U);
  fed = follower.feed("TP/1.1\r\nHost: a\r\n\r\nGET");
  ASSERT_EQ(fed.heads.size(), 1U);
  EXPECT_EQ(fed.head_begins[0], 0U);
  EXPECT_EQ(fed.head_ends[0], 19U);  // "TP/1.1\r\nHost: a\r\n\r\n"
  EXPECT_EQ(fed.open_head_begin, 19U);
  fed = follower.feed(" / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n\r\n");
  EXPECT_EQ(fed.open_head_begin, std::nullopt);  // inside a body now
  fed = follower.feed("x");
  EXPECT_EQ(fed.open_head_begin, std::nullopt);  // at a request boundary
  EXPECT_TRUE(fed.heads.empty());
}

TEST(HttpStream, AnySplitGivesTheSameVerdict) {
  const std::string stream = kGetA + chunked_post("b", "5\r\nhello\r\n5\nworld\r\n0\r\n\r\n");
  const Followed whole = follow(stream);
  ASSERT_TRUE(whole.invalid);
  std::mt19937 random(7);
  for (int round = 0; round < 100; ++round) {
    std::vector<size_t> cuts;
    cuts.reserve(4);
    for (int i = 0; i < 4; ++i) {
      cuts.push_back(std::uniform_int_distribution<size_t>(0, stream.size())(random));
    }
    std::sort(cuts.begin(), cuts.end());
    const Followed split = follow(stream, cuts);
    ASSERT_TRUE(split.invalid);
    ASSERT_EQ(split.problem, whole.problem);
    ASSERT_EQ(split.heads, whole.heads);
  }
}

}  // namespace
}  // namespace airlock::egress
