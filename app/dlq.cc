// `daybook dlq list|show|resubmit`: the records of daybook.commands that could not be read.
// A resubmission is a new command record like any other: it carries the resubmitting actor,
// source "dlq-resubmit" and correlation id "dlq/<offset>", so the audit trail shows who sent
// what again, and why.

#include <google/protobuf/util/json_util.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "app/options.h"
#include "consumers/log_reader.h"
#include "events/codec.h"
#include "events/hashing.h"

namespace daybook::app {
namespace {

void print_item(const consumers::page_record& r, bool json) {
    if (json) {
        std::printf("{\"offset\":%lld,\"key\":%s,\"error\":%s,\"source_partition\":%s,\"source_offset\":%s,\"bytes\":%zu}\n",
                    static_cast<long long>(r.offset), events::json_string(r.key).c_str(),
                    events::json_string(r.header("daybook.error")).c_str(),
                    events::json_string(r.header("daybook.source_partition")).c_str(),
                    events::json_string(r.header("daybook.source_offset")).c_str(), r.value.size());
    } else {
        std::printf("%8lld  %-24s %8zu B  from %s:%s  %s\n", static_cast<long long>(r.offset), r.key.c_str(), r.value.size(),
                    r.header("daybook.source_partition").c_str(), r.header("daybook.source_offset").c_str(),
                    r.header("daybook.error").c_str());
    }
}

result<consumers::page_record, std::string> read_item(rd_kafka_t* reader, const options& o, std::int64_t offset) {
    auto page = consumers::read_page(reader, o.topics.dlq(), 0, offset, 1, 1, nullptr, 30000);
    if (!page) return page.error();
    if (page->records.empty() || page->records.front().offset != offset)
        return "no DLQ record at offset " + std::to_string(offset);
    return page->records.front();
}

}  // namespace

int run_dlq(const options& o, const dlq_args& a) {
    auto reader = consumers::make_page_reader(o.kafka);
    if (!reader) return std::fprintf(stderr, "daybook dlq: %s\n", reader.error().c_str()), 2;
    const bool json = a.format == "json";
    if (a.what == "list") {
        auto page = consumers::read_page(reader->get(), o.topics.dlq(), 0, a.after + 1, a.limit, a.limit, nullptr, 30000);
        if (!page) return std::fprintf(stderr, "daybook dlq: %s\n", page.error().c_str()), 2;
        if (!json) std::printf("%8s  %-24s %10s  %-12s  %s\n", "offset", "key", "size", "source", "error");
        for (const auto& r : page->records) print_item(r, json);
        if (page->next_offset >= 0) std::fprintf(stderr, "more: --after %lld\n", static_cast<long long>(page->next_offset - 1));
        return 0;
    }
    auto item = read_item(reader->get(), o, a.offset);
    if (!item) return std::fprintf(stderr, "daybook dlq: %s\n", item.error().c_str()), 2;
    if (a.what == "show") {
        print_item(*item, json);
        auto read = events::read_command(item->value);
        std::printf("readable now: %s\n", read.readable && !read.invalid ? "yes" : ("no: " + read.error).c_str());
        std::printf("bytes (hex): %s\n", events::to_hex(item->value).c_str());
        return 0;
    }
    // resubmit
    v1::CommandEnvelope envelope;
    if (!a.file.empty()) {
        std::ifstream in(a.file);
        if (!in) return std::fprintf(stderr, "daybook dlq: cannot open %s\n", a.file.c_str()), 2;
        std::stringstream text;
        text << in.rdbuf();
        google::protobuf::util::JsonParseOptions parse;
        parse.ignore_unknown_fields = false;
        if (auto st = google::protobuf::util::JsonStringToMessage(text.str(), &envelope, parse); !st.ok())
            return std::fprintf(stderr, "daybook dlq: %s: %s\n", a.file.c_str(), std::string(st.message()).c_str()), 2;
    } else {
        auto read = events::read_command(item->value);
        if (!read.readable)
            return std::fprintf(stderr,
                                "daybook dlq: the record is still unreadable (%s); resubmit a corrected command "
                                "with --file\n",
                                read.error.c_str()),
                   2;
        envelope = read.envelope;
    }
    if (envelope.command_id().empty() || events::routing_key_of(envelope).empty())
        return std::fprintf(stderr, "daybook dlq: the command needs a command_id and a payload with its book_id\n"), 2;
    envelope.set_actor(cli_actor());
    envelope.set_source("dlq-resubmit");
    envelope.set_correlation_id("dlq/" + std::to_string(item->offset));
    return submit_envelopes(o, {envelope}, submit_args{});
}

}  // namespace daybook::app
