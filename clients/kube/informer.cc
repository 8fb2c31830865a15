#include "clients/kube/informer.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "base/url.h"
#include "clients/kube/objects_json.h"
#include "glog/logging.h"
#include "rapidjson/document.h"

namespace clients::kube {
namespace {

std::string MetaKey(const rapidjson::Value& obj) {
  const rapidjson::Value* md = internal::GetObject(obj, "metadata");
  if (md == nullptr) return "";
  return absl::StrCat(internal::GetString(*md, "namespace"), "/", internal::GetString(*md, "name"));
}

std::string MetaResourceVersion(const rapidjson::Value& obj) {
  const rapidjson::Value* md = internal::GetObject(obj, "metadata");
  return md == nullptr ? "" : internal::GetString(*md, "resourceVersion");
}

}  // namespace

template <typename T>
Informer<T>::Informer(clients::http::StreamingHttpClient* http, ClusterConfig cluster,
                      InformerOptions options, const base::Clock* clock,
                      base::Sleeper* sleeper)
    : http_(http),
      cluster_(std::move(cluster)),
      options_(std::move(options)),
      clock_(clock),
      sleeper_(sleeper) {}

template <typename T>
Informer<T>::~Informer() {
  Stop();
}

template <typename T>
void Informer<T>::SetHandler(Handler handler) {
  handler_ = std::move(handler);
}

template <typename T>
void Informer<T>::Start() {
  thread_ = std::thread([this] { Run(); });
}

template <typename T>
void Informer<T>::Stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

template <typename T>
bool Informer<T>::HasSynced() const {
  absl::MutexLock lock(&mu_);
  return synced_;
}

template <typename T>
bool Informer<T>::WaitForSync(absl::Duration timeout) const {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&synced_), timeout);
  return synced_;
}

template <typename T>
std::vector<T> Informer<T>::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<T> out;
  out.reserve(items_.size());
  for (const auto& [key, obj] : items_) out.push_back(obj);
  return out;
}

template <typename T>
std::optional<T> Informer<T>::Get(const std::string& namespace_name,
                                  const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = items_.find(absl::StrCat(namespace_name, "/", name));
  if (it == items_.end()) return std::nullopt;
  return it->second;
}

template <typename T>
std::string Informer<T>::ResourceVersion() const {
  absl::MutexLock lock(&mu_);
  return resource_version_;
}

template <typename T>
InformerStats Informer<T>::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

template <typename T>
std::string Informer<T>::CollectionUrl() const {
  const ResourceInfo& info = ResourceInfoFor<T>();
  std::string ns_part;
  if (info.namespaced && !options_.namespace_name.empty()) {
    ns_part = absl::StrCat("/namespaces/", options_.namespace_name);
  }
  return absl::StrCat(cluster_.server, info.group_version_path, ns_part, "/", info.plural);
}

template <typename T>
void Informer<T>::AddAuth(clients::http::HttpRequest* req) const {
  req->headers.push_back({"Accept", "application/json"});
  absl::StatusOr<std::string> token = CurrentBearerToken(cluster_);
  if (token.ok() && !token->empty()) {
    req->headers.push_back({"Authorization", absl::StrCat("Bearer ", *token)});
  }
}

template <typename T>
void Informer<T>::BackoffWait(int failures) {
  absl::Duration d = clients::http::BackoffDelay(options_.backoff, std::max(0, failures - 1));
  {
    absl::MutexLock lock(&mu_);
    ++stats_.backoffs;
    stats_.backoff_total += d;
  }
  // In slices, so Stop() is not held up by a long wait.
  while (d > absl::ZeroDuration() && !stop_) {
    absl::Duration slice = std::min(d, absl::Milliseconds(100));
    sleeper_->SleepFor(slice);
    d -= slice;
  }
}

template <typename T>
void Informer<T>::Deliver(const std::vector<Event>& events) {
  if (!handler_) return;
  for (const Event& e : events) handler_(e.type, e.object);
}

template <typename T>
void Informer<T>::Run() {
  const char* kind = ResourceInfoFor<T>().kind;
  int failures = 0;
  bool need_list = true;
  while (!stop_) {
    if (need_list) {
      absl::Status s = ListAll();
      if (stop_) break;
      if (!s.ok()) {
        LOG(WARNING) << kind << " informer: list failed: " << s;
        {
          absl::MutexLock lock(&mu_);
          ++stats_.errors;
        }
        BackoffWait(++failures);
        continue;
      }
      need_list = false;
      failures = 0;
    }
    switch (WatchOnce()) {
      case WatchEnd::kEnded:
        failures = 0;
        break;
      case WatchEnd::kEmpty:
        BackoffWait(++failures);
        break;
      case WatchEnd::kExpired: {
        VLOG(1) << kind << " informer: resourceVersion expired, relisting";
        absl::MutexLock lock(&mu_);
        ++stats_.relists;
        need_list = true;
        break;
      }
      case WatchEnd::kFailed:
        BackoffWait(++failures);
        break;
      case WatchEnd::kStopped:
        return;
    }
  }
}

template <typename T>
absl::Status Informer<T>::ListAll() {
  const char* kind = ResourceInfoFor<T>().kind;
  std::map<std::string, T> fresh;
  std::string cont, rv;
  int restarts = 0;
  int64_t parse_errors = 0;
  while (!stop_) {
    clients::http::HttpRequest req;
    req.url = absl::StrCat(CollectionUrl(), "?limit=", options_.page_size);
    if (!options_.label_selector.empty()) {
      absl::StrAppend(&req.url, "&labelSelector=", base::UrlEncode(options_.label_selector));
    }
    if (!cont.empty()) absl::StrAppend(&req.url, "&continue=", base::UrlEncode(cont));
    req.timeout = options_.request_timeout;
    AddAuth(&req);
    absl::StatusOr<clients::http::HttpResponse> r = http_->Do(req);
    if (!r.ok()) return r.status();
    if (r->status == 410 && !cont.empty() && restarts < 3) {
      // The continue token expired between pages: start the list over.
      ++restarts;
      fresh.clear();
      cont.clear();
      continue;
    }
    if (r->status != 200) {
      return absl::UnavailableError(absl::StrCat("LIST ", req.url, " answered HTTP ", r->status,
                                                 ": ", r->body.substr(0, 200)));
    }
    rapidjson::Document doc;
    doc.Parse(r->body.c_str(), r->body.size());
    if (doc.HasParseError() || !doc.IsObject()) {
      return absl::InternalError(absl::StrCat("LIST ", req.url, ": body is not a JSON object"));
    }
    {
      absl::MutexLock lock(&mu_);
      ++stats_.list_pages;
    }
    auto items = doc.FindMember("items");
    if (items != doc.MemberEnd() && items->value.IsArray()) {
      for (const auto& item : items->value.GetArray()) {
        T obj;
        absl::Status s = internal::FromJson(item, &obj);
        if (!s.ok()) {
          LOG(WARNING) << kind << " informer: skipping object: " << s;
          ++parse_errors;
          continue;
        }
        std::string key = absl::StrCat(obj.metadata.namespace_name, "/", obj.metadata.name);
        fresh[key] = std::move(obj);
      }
    }
    const rapidjson::Value* md = internal::GetObject(doc, "metadata");
    if (md != nullptr) {
      if (cont.empty()) rv = internal::GetString(*md, "resourceVersion");
      cont = internal::GetString(*md, "continue");
    } else {
      cont.clear();
    }
    if (cont.empty()) break;
  }
  if (stop_) return absl::CancelledError("stopped");
  std::vector<Event> events;
  {
    absl::MutexLock lock(&mu_);
    if (handler_) {
      for (const auto& [key, old] : items_) {
        if (fresh.count(key) == 0) events.push_back({WatchEventType::kDeleted, old});
      }
      for (const auto& [key, obj] : fresh) {
        auto it = items_.find(key);
        if (it == items_.end()) {
          events.push_back({WatchEventType::kAdded, obj});
        } else if (it->second.metadata.resource_version != obj.metadata.resource_version) {
          events.push_back({WatchEventType::kModified, obj});
        }
      }
    }
    items_ = std::move(fresh);
    resource_version_ = rv;
    synced_ = true;
    ++stats_.lists;
    stats_.parse_errors += parse_errors;
    stats_.last_sync = clock_->Now();
  }
  Deliver(events);
  return absl::OkStatus();
}

template <typename T>
void Informer<T>::HandleLine(absl::string_view line, std::vector<Event>* events,
                             std::optional<WatchEnd>* end) {
  const char* kind = ResourceInfoFor<T>().kind;
  line = absl::StripAsciiWhitespace(line);
  if (line.empty()) return;
  rapidjson::Document doc;
  doc.Parse(line.data(), line.size());
  const rapidjson::Value* object = doc.IsObject() ? internal::GetObject(doc, "object") : nullptr;
  if (doc.HasParseError() || object == nullptr) {
    LOG(WARNING) << kind << " informer: malformed watch event, restarting the watch";
    *end = WatchEnd::kFailed;
    return;
  }
  std::string type = internal::GetString(doc, "type");
  std::string rv = MetaResourceVersion(*object);
  absl::MutexLock lock(&mu_);
  if (type == "BOOKMARK") {
    if (!rv.empty()) resource_version_ = rv;
    ++stats_.bookmarks;
    return;
  }
  if (type == "ERROR") {
    auto code = object->FindMember("code");
    if (code != object->MemberEnd() && code->value.IsInt() && code->value.GetInt() == 410) {
      *end = WatchEnd::kExpired;
    } else {
      LOG(WARNING) << kind
                   << " informer: watch ERROR event: " << internal::GetString(*object, "message");
      *end = WatchEnd::kFailed;
    }
    return;
  }
  if (type != "ADDED" && type != "MODIFIED" && type != "DELETED") {
    LOG(WARNING) << kind << " informer: unknown watch event type " << type;
    return;
  }
  if (!rv.empty()) resource_version_ = rv;
  ++stats_.events;
  std::string key = MetaKey(*object);
  T obj;
  absl::Status s = internal::FromJson(*object, &obj);
  if (type == "DELETED") {
    auto it = items_.find(key);
    if (it != items_.end()) {
      if (!s.ok()) obj = it->second;
      items_.erase(it);
      if (handler_) events->push_back({WatchEventType::kDeleted, std::move(obj)});
    }
    return;
  }
  if (!s.ok()) {
    // Keep the cache honest: an object we cannot read is not in it.
    LOG(WARNING) << kind << " informer: skipping object: " << s;
    ++stats_.parse_errors;
    items_.erase(key);
    return;
  }
  bool existed = items_.count(key) > 0;
  if (handler_) {
    events->push_back({existed ? WatchEventType::kModified : WatchEventType::kAdded, obj});
  }
  items_[key] = std::move(obj);
}

template <typename T>
typename Informer<T>::WatchEnd Informer<T>::WatchOnce() {
  clients::http::HttpRequest req;
  std::string rv = ResourceVersion();
  req.url = absl::StrCat(CollectionUrl(),
                         "?watch=1&allowWatchBookmarks=true&resourceVersion=", base::UrlEncode(rv),
                         "&timeoutSeconds=", absl::ToInt64Seconds(options_.watch_timeout));
  if (!options_.label_selector.empty()) {
    absl::StrAppend(&req.url, "&labelSelector=", base::UrlEncode(options_.label_selector));
  }
  req.timeout = options_.watch_timeout + options_.request_timeout;
  AddAuth(&req);
  {
    absl::MutexLock lock(&mu_);
    ++stats_.watches;
  }
  std::string buffer;
  std::optional<WatchEnd> end;
  bool got_data = false;
  auto on_data = [&](absl::string_view data) {
    got_data = got_data || !data.empty();
    buffer.append(data.data(), data.size());
    size_t start = 0;
    std::vector<Event> events;
    for (size_t nl; !end && (nl = buffer.find('\n', start)) != std::string::npos; start = nl + 1) {
      HandleLine(absl::string_view(buffer).substr(start, nl - start), &events, &end);
    }
    buffer.erase(0, start);
    Deliver(events);
    return !end.has_value() && !stop_;
  };
  absl::StatusOr<clients::http::HttpResponse> r = http_->DoStream(req, on_data, &stop_);
  if (stop_) return WatchEnd::kStopped;
  if (end == WatchEnd::kExpired) return WatchEnd::kExpired;
  bool failed = end == WatchEnd::kFailed;
  if (!failed && r.ok() && r->status == 410) return WatchEnd::kExpired;
  if (!failed && r.ok() && r->status == 200) return got_data ? WatchEnd::kEnded : WatchEnd::kEmpty;
  const char* kind = ResourceInfoFor<T>().kind;
  if (!r.ok() && !failed) {
    LOG(WARNING) << kind << " informer: watch failed: " << r.status();
  } else if (!failed) {
    LOG(WARNING) << kind << " informer: watch answered HTTP " << r->status;
  }
  absl::MutexLock lock(&mu_);
  ++stats_.errors;
  return WatchEnd::kFailed;
}

template class Informer<Deployment>;
template class Informer<ReplicaSet>;
template class Informer<Pod>;
template class Informer<Node>;
template class Informer<HorizontalPodAutoscaler>;
template class Informer<Lease>;

}  // namespace clients::kube
