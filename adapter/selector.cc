// A port of the lexer/parser in k8s.io/apimachinery/pkg/labels/selector.go, so error positions
// and accepted inputs match what kube-apiserver accepts.
#include "adapter/selector.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/json_writer.h"

namespace adapter {
namespace {

enum class Tok {
  kError,
  kEnd,
  kClosedPar,
  kComma,
  kDoesNotExist,
  kDoubleEquals,
  kEquals,
  kGreaterThan,
  kIdentifier,
  kIn,
  kLessThan,
  kNotEquals,
  kNotIn,
  kOpenPar,
};

bool IsWhitespace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsSpecial(char c) {
  return c == '=' || c == '!' || c == '(' || c == ')' || c == ',' || c == '>' || c == '<';
}

bool LookupToken(absl::string_view s, Tok* tok) {
  static const struct {
    const char* text;
    Tok tok;
  } kTokens[] = {{")", Tok::kClosedPar},     {",", Tok::kComma},    {"!", Tok::kDoesNotExist},
                 {"==", Tok::kDoubleEquals}, {"=", Tok::kEquals},   {">", Tok::kGreaterThan},
                 {"in", Tok::kIn},           {"<", Tok::kLessThan}, {"!=", Tok::kNotEquals},
                 {"notin", Tok::kNotIn},     {"(", Tok::kOpenPar}};
  for (const auto& t : kTokens) {
    if (s == t.text) {
      *tok = t.tok;
      return true;
    }
  }
  return false;
}

struct Item {
  Tok tok;
  std::string literal;
};

std::vector<Item> Lex(absl::string_view s) {
  std::vector<Item> items;
  size_t i = 0;
  while (true) {
    while (i < s.size() && IsWhitespace(s[i])) ++i;
    if (i >= s.size()) {
      items.push_back({Tok::kEnd, ""});
      return items;
    }
    if (IsSpecial(s[i])) {
      // Longest run of special symbols that still forms a known token.
      std::string buffer;
      Item last{Tok::kError, ""};
      bool have = false;
      while (i < s.size() && IsSpecial(s[i])) {
        buffer.push_back(s[i]);
        Tok tok;
        if (LookupToken(buffer, &tok)) {
          last = {tok, buffer};
          have = true;
          ++i;
        } else if (have) {
          break;
        } else {
          ++i;
        }
      }
      if (!have) {
        items.push_back(
            {Tok::kError, absl::StrCat("error expected: keyword found '", buffer, "'")});
        return items;
      }
      items.push_back(last);
      continue;
    }
    size_t start = i;
    while (i < s.size() && !IsWhitespace(s[i]) && !IsSpecial(s[i])) ++i;
    std::string word(s.substr(start, i - start));
    Tok tok;
    if (LookupToken(word, &tok)) {
      items.push_back({tok, word});
    } else {
      items.push_back({Tok::kIdentifier, word});
    }
  }
}

bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63 characters.
bool IsQualifiedNamePart(absl::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  if (!IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// Lower-case RFC 1123 subdomain, at most 253 characters.
bool IsDnsSubdomain(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    absl::string_view label = s.substr(start, dot == absl::string_view::npos ? dot : dot - start);
    if (label.empty() || label.size() > 63) return false;
    auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
    if (!lower_alnum(label.front()) || !lower_alnum(label.back())) return false;
    for (char c : label) {
      if (!lower_alnum(c) && c != '-') return false;
    }
    if (dot == absl::string_view::npos) return true;
    start = dot + 1;
  }
}

absl::Status ValidateKey(const std::string& key) {
  absl::string_view name = key;
  size_t slash = key.find('/');
  if (slash != std::string::npos) {
    absl::string_view prefix = absl::string_view(key).substr(0, slash);
    name = absl::string_view(key).substr(slash + 1);
    if (!IsDnsSubdomain(prefix)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "invalid label key \"", key,
          "\": prefix part must be a lowercase RFC 1123 subdomain of at most 253 characters"));
    }
  }
  if (!IsQualifiedNamePart(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid label key \"", key,
        "\": name part must be at most 63 characters, consist of alphanumeric characters, '-', "
        "'_' or '.', and must start and end with an alphanumeric character"));
  }
  return absl::OkStatus();
}

absl::Status ValidateValue(const std::string& value) {
  if (value.empty() || IsQualifiedNamePart(value)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid label value: \"", value,
      "\": must be no more than 63 characters, consist of alphanumeric characters, '-', '_' or "
      "'.', and must start and end with an alphanumeric character"));
}

class Parser {
 public:
  explicit Parser(std::vector<Item> items) : items_(std::move(items)) {}

  absl::Status Parse(std::vector<Selector::Requirement>* out) {
    while (true) {
      const Item t = Lookahead(true);
      if (t.tok == Tok::kEnd) return absl::OkStatus();
      if (t.tok != Tok::kIdentifier && t.tok != Tok::kDoesNotExist) {
        return Error(t, "!, identifier, or 'end of string'");
      }
      Selector::Requirement r;
      if (absl::Status s = ParseRequirement(&r); !s.ok()) return s;
      out->push_back(std::move(r));
      const Item next = Consume(true);
      if (next.tok == Tok::kEnd) return absl::OkStatus();
      if (next.tok != Tok::kComma) return Error(next, "',' or 'end of string'");
      const Item after = Lookahead(true);
      if (after.tok != Tok::kIdentifier && after.tok != Tok::kDoesNotExist) {
        return Error(after, "identifier after ','");
      }
    }
  }

 private:
  // In the "values" context keywords are plain identifiers (a value may be "in").
  Item Lookahead(bool values) const {
    Item it = items_[std::min(pos_, items_.size() - 1)];
    if (values && (it.tok == Tok::kIn || it.tok == Tok::kNotIn)) it.tok = Tok::kIdentifier;
    return it;
  }
  Item Consume(bool values) {
    Item it = Lookahead(values);
    if (pos_ < items_.size() - 1) ++pos_;
    return it;
  }
  static absl::Status Error(const Item t, absl::string_view expected) {
    if (t.tok == Tok::kError) return absl::InvalidArgumentError(t.literal);
    return absl::InvalidArgumentError(
        absl::StrCat("unable to parse requirement: found '", t.literal, "', expected: ", expected));
  }

  absl::Status ParseRequirement(Selector::Requirement* r) {
    bool not_exists = false;
    Item t0 = Consume(true);
    const Item* t = &t0;
    if (t->tok == Tok::kDoesNotExist) {
      not_exists = true;
      t0 = Consume(true);
    }
    if (t->tok != Tok::kIdentifier) return Error(*t, "identifier");
    r->key = t->literal;
    if (absl::Status s = ValidateKey(r->key); !s.ok()) return s;
    if (not_exists) {
      r->op = Selector::Op::kDoesNotExist;
      return absl::OkStatus();
    }
    const Item next = Lookahead(true);
    if (next.tok == Tok::kEnd || next.tok == Tok::kComma) {
      r->op = Selector::Op::kExists;
      return absl::OkStatus();
    }
    const Item op = Consume(false);
    switch (op.tok) {
      case Tok::kIn:
        r->op = Selector::Op::kIn;
        break;
      case Tok::kNotIn:
        r->op = Selector::Op::kNotIn;
        break;
      case Tok::kEquals:
      case Tok::kDoubleEquals:
        r->op = Selector::Op::kEquals;
        break;
      case Tok::kNotEquals:
        r->op = Selector::Op::kNotEquals;
        break;
      case Tok::kGreaterThan:
        r->op = Selector::Op::kGreaterThan;
        break;
      case Tok::kLessThan:
        r->op = Selector::Op::kLessThan;
        break;
      default:
        return Error(op, "'=', '!=', '==', 'in', 'notin', '>' or '<'");
    }
    if (r->op == Selector::Op::kIn || r->op == Selector::Op::kNotIn) {
      if (absl::Status s = ParseValues(&r->values); !s.ok()) return s;
    } else {
      const Item v = Lookahead(true);
      if (v.tok == Tok::kEnd || v.tok == Tok::kComma) {
        r->values.push_back("");
      } else {
        const Item value = Consume(true);
        if (value.tok != Tok::kIdentifier) return Error(value, "identifier");
        r->values.push_back(value.literal);
      }
    }
    for (const std::string& v : r->values) {
      if (absl::Status s = ValidateValue(v); !s.ok()) return s;
    }
    if (r->op == Selector::Op::kGreaterThan || r->op == Selector::Op::kLessThan) {
      int64_t unused;
      if (!absl::SimpleAtoi(r->values[0], &unused)) {
        return absl::InvalidArgumentError(
            absl::StrCat("invalid value \"", r->values[0], "\" for key \"", r->key,
                         "\": for 'Gt', 'Lt' operators, the value must be an integer"));
      }
    }
    std::sort(r->values.begin(), r->values.end());
    r->values.erase(std::unique(r->values.begin(), r->values.end()), r->values.end());
    return absl::OkStatus();
  }

  absl::Status ParseValues(std::vector<std::string>* values) {
    const Item open = Consume(true);
    if (open.tok != Tok::kOpenPar) return Error(open, "'('");
    const Item t = Lookahead(true);
    if (t.tok == Tok::kClosedPar) {
      Consume(true);
      return absl::OkStatus();
    }
    if (t.tok != Tok::kIdentifier && t.tok != Tok::kComma) {
      return Error(t, "',', ')' or identifier");
    }
    while (true) {
      const Item v = Consume(true);
      if (v.tok == Tok::kIdentifier) {
        values->push_back(v.literal);
        const Item next = Lookahead(true);
        if (next.tok == Tok::kComma) {
          Consume(true);
          const Item after = Lookahead(true);
          if (after.tok == Tok::kClosedPar) {  // "(a,)": trailing empty value
            values->push_back("");
            Consume(true);
            return absl::OkStatus();
          }
          continue;
        }
        if (next.tok == Tok::kClosedPar) {
          Consume(true);
          return absl::OkStatus();
        }
        return Error(next, "',' or ')'");
      }
      if (v.tok == Tok::kComma) {  // "(,a)" or "(a,,b)": an empty value
        values->push_back("");
        const Item next = Lookahead(true);
        if (next.tok == Tok::kClosedPar) {
          values->push_back("");
          Consume(true);
          return absl::OkStatus();
        }
        continue;
      }
      return Error(v, "',', or identifier");
    }
  }

  std::vector<Item> items_;
  size_t pos_ = 0;
};

}  // namespace

absl::StatusOr<Selector> Selector::Parse(absl::string_view text) {
  Selector selector;
  Parser parser(Lex(text));
  if (absl::Status s = parser.Parse(&selector.requirements_); !s.ok()) return s;
  std::stable_sort(selector.requirements_.begin(), selector.requirements_.end(),
                   [](const Requirement& a, const Requirement& b) { return a.key < b.key; });
  return selector;
}

bool Selector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const Requirement& r : requirements_) {
    auto it = labels.find(r.key);
    const bool has = it != labels.end();
    auto in_set = [&] {
      return has && std::binary_search(r.values.begin(), r.values.end(), it->second);
    };
    switch (r.op) {
      case Op::kEquals:
      case Op::kIn:
        if (!in_set()) return false;
        break;
      case Op::kNotEquals:
      case Op::kNotIn:
        if (in_set()) return false;
        break;
      case Op::kExists:
        if (!has) return false;
        break;
      case Op::kDoesNotExist:
        if (has) return false;
        break;
      case Op::kGreaterThan:
      case Op::kLessThan: {
        int64_t have, want;
        if (!has || !absl::SimpleAtoi(it->second, &have) || !absl::SimpleAtoi(r.values[0], &want)) {
          return false;
        }
        if (r.op == Op::kGreaterThan ? !(have > want) : !(have < want)) return false;
        break;
      }
    }
  }
  return true;
}

bool Selector::ExactValue(const std::string& key, std::string* value) const {
  for (const Requirement& r : requirements_) {
    if (r.key == key && (r.op == Op::kEquals || r.op == Op::kIn) && r.values.size() == 1) {
      *value = r.values[0];
      return true;
    }
  }
  return false;
}

std::string Selector::String() const {
  std::vector<std::string> parts;
  for (const Requirement& r : requirements_) {
    switch (r.op) {
      case Op::kEquals:
        parts.push_back(absl::StrCat(r.key, "=", r.values[0]));
        break;
      case Op::kNotEquals:
        parts.push_back(absl::StrCat(r.key, "!=", r.values[0]));
        break;
      case Op::kIn:
        parts.push_back(absl::StrCat(r.key, " in (", absl::StrJoin(r.values, ","), ")"));
        break;
      case Op::kNotIn:
        parts.push_back(absl::StrCat(r.key, " notin (", absl::StrJoin(r.values, ","), ")"));
        break;
      case Op::kExists:
        parts.push_back(r.key);
        break;
      case Op::kDoesNotExist:
        parts.push_back(absl::StrCat("!", r.key));
        break;
      case Op::kGreaterThan:
        parts.push_back(absl::StrCat(r.key, ">", r.values[0]));
        break;
      case Op::kLessThan:
        parts.push_back(absl::StrCat(r.key, "<", r.values[0]));
        break;
    }
  }
  return absl::StrJoin(parts, ",");
}

namespace {

const char* OperatorName(Selector::Op op) {
  switch (op) {
    case Selector::Op::kEquals:
    case Selector::Op::kIn:
      return "In";
    case Selector::Op::kNotEquals:
    case Selector::Op::kNotIn:
      return "NotIn";
    case Selector::Op::kExists:
      return "Exists";
    case Selector::Op::kDoesNotExist:
      return "DoesNotExist";
    case Selector::Op::kGreaterThan:
      return "Gt";
    case Selector::Op::kLessThan:
      return "Lt";
  }
  return "In";
}

}  // namespace

std::string Selector::ToLabelSelectorJson() const {
  // The first equality per key becomes matchLabels; everything else a matchExpression.
  std::vector<const Requirement*> labels, expressions;
  std::set<std::string> labelled;
  for (const Requirement& r : requirements_) {
    if (r.op == Op::kEquals && labelled.insert(r.key).second) {
      labels.push_back(&r);
    } else {
      expressions.push_back(&r);
    }
  }
  rapidjson::StringBuffer buf;
  base::JsonWriter w(buf);
  w.StartObject();
  if (!labels.empty()) {
    w.Key("matchLabels");
    w.StartObject();
    for (const Requirement* r : labels) {
      w.Key(r->key.data(), static_cast<rapidjson::SizeType>(r->key.size()));
      base::JsonString(w, r->values[0]);
    }
    w.EndObject();
  }
  if (!expressions.empty()) {
    w.Key("matchExpressions");
    w.StartArray();
    for (const Requirement* r : expressions) {
      w.StartObject();
      base::JsonField(w, "key", r->key);
      base::JsonField(w, "operator", OperatorName(r->op));
      if (r->op != Op::kExists && r->op != Op::kDoesNotExist) {
        w.Key("values");
        w.StartArray();
        for (const std::string& v : r->values) base::JsonString(w, v);
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return base::JsonText(buf);
}

}  // namespace adapter
