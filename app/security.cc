// `daybook security apply`: the Kafka ACLs that make each Daybook role its own principal with the
// least it needs, on a broker with an authorizer (scripts/kafka-local with KAFKA_SECURITY_DIR).
// What is not allowed is denied (allow.everyone.if.no.acl.found=false); the explicit DENY rows say
// out loud that nobody may delete records from, or reconfigure, the system of record.
//
//   gateway    (HTTP, submit):   write commands; read outcomes, dlq and events
//   processor:                   read commands; write events, outcomes, dlq; its group and
//                                transactional ids <prefix>processor-* (printed: see below)
//   managers   (process managers): read events; write commands; group <group>.billing and
//                                transactional ids <prefix>billing-manager-* (printed)
//   projector:                   read events
//   auditor:                     read events
//   everyone:                    DENY delete, alter and alter_configs on the events topic

#include <cstdio>

#include "app/options.h"
#include "consumers/billing_manager.h"
#include "consumers/keystore.h"

namespace daybook::app {
namespace {

struct acl {
    rd_kafka_ResourceType_t type;
    std::string name;
    rd_kafka_ResourcePatternType_t pattern;
    std::string principal;
    rd_kafka_AclOperation_t operation;
    rd_kafka_AclPermissionType_t permission;
};

std::vector<acl> wanted(const options& o, const security_args& a) {
    const auto& t = o.topics;
    std::vector<acl> out;
    auto topic = [&](const std::string& principal, const std::string& name, std::initializer_list<rd_kafka_AclOperation_t> ops) {
        for (auto op : ops)
            out.push_back({RD_KAFKA_RESOURCE_TOPIC, name, RD_KAFKA_RESOURCE_PATTERN_LITERAL, principal, op, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW});
    };
    auto prefixed = [&](rd_kafka_ResourceType_t type, const std::string& principal, const std::string& name,
                        std::initializer_list<rd_kafka_AclOperation_t> ops) {
        for (auto op : ops) out.push_back({type, name, RD_KAFKA_RESOURCE_PATTERN_PREFIXED, principal, op, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW});
    };
    auto idempotent = [&](const std::string& principal) {
        out.push_back({RD_KAFKA_RESOURCE_BROKER, "kafka-cluster", RD_KAFKA_RESOURCE_PATTERN_LITERAL, principal,
                       RD_KAFKA_ACL_OPERATION_IDEMPOTENT_WRITE, RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW});
    };
    constexpr auto R = RD_KAFKA_ACL_OPERATION_READ, W = RD_KAFKA_ACL_OPERATION_WRITE, D = RD_KAFKA_ACL_OPERATION_DESCRIBE;
    // Reading the topics' configuration: the processor, the process managers and the audit check
    // that commands take the broker's time and that events are kept forever before they start.
    constexpr auto DC = RD_KAFKA_ACL_OPERATION_DESCRIBE_CONFIGS;

    topic(a.gateway, t.commands(), {W, D});
    topic(a.gateway, t.outcomes(), {R, D});
    topic(a.gateway, t.dlq(), {R, D});
    topic(a.gateway, t.events(), {R, D});
    idempotent(a.gateway);

    topic(a.processor, t.commands(), {R, D, DC});
    topic(a.processor, t.events(), {R, W, D, DC});
    topic(a.processor, t.outcomes(), {W, D});
    topic(a.processor, t.dlq(), {W, D});
    prefixed(RD_KAFKA_RESOURCE_GROUP, a.processor, o.processor.group_id, {R, D});
    idempotent(a.processor);

    topic(a.managers, t.events(), {R, D, DC});
    topic(a.managers, t.commands(), {W, D, DC});
    prefixed(RD_KAFKA_RESOURCE_GROUP, a.managers, consumers::billing_group_of(o.processor.group_id), {R, D});
    idempotent(a.managers);

    topic(a.projector, t.events(), {R, D});
    topic(a.auditor, t.events(), {R, D, DC});
    topic(a.auditor, t.commands(), {D, DC});
    topic(a.auditor, t.outcomes(), {D});
    topic(a.auditor, t.dlq(), {D});

    for (auto op : {RD_KAFKA_ACL_OPERATION_DELETE, RD_KAFKA_ACL_OPERATION_ALTER, RD_KAFKA_ACL_OPERATION_ALTER_CONFIGS})
        out.push_back({RD_KAFKA_RESOURCE_TOPIC, t.events(), RD_KAFKA_RESOURCE_PATTERN_LITERAL, "User:*", op, RD_KAFKA_ACL_PERMISSION_TYPE_DENY});
    return out;
}

// Transactional-id ACLs: librdkafka 2.0.2 has no resource type for them, so they are printed as
// AclCommand arguments (scripts/kafka-local acl ...; kafka-acls.sh takes the same).
std::vector<std::string> transactional_grants(const options& o, const security_args& a) {
    auto grant = [](const std::string& principal, const std::string& prefix) {
        return "--add --allow-principal " + principal + " --operation Write --operation Describe --transactional-id " + prefix +
               " --resource-pattern-type prefixed";
    };
    return {grant(a.processor, o.topics.prefix + "processor-"), grant(a.managers, o.topics.prefix + "billing-manager-")};
}

}  // namespace

int run_security(const options& o, const security_args& a) {
    auto rk = consumers::make_producer(o.kafka, "");
    if (!rk) {
        std::fprintf(stderr, "daybook security apply: %s\n", rk.error().c_str());
        return 2;
    }
    auto acls = wanted(o, a);
    std::vector<rd_kafka_AclBinding_t*> bindings;
    char err[512];
    for (const auto& x : acls) {
        auto* b = rd_kafka_AclBinding_new(x.type, x.name.c_str(), x.pattern, x.principal.c_str(), "*", x.operation, x.permission, err,
                                          sizeof err);
        if (!b) {
            std::fprintf(stderr, "daybook security apply: %s\n", err);
            return 2;
        }
        bindings.push_back(b);
    }
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk->get());
    rd_kafka_CreateAcls(rk->get(), bindings.data(), bindings.size(), nullptr, queue);
    rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 30000);
    int status = 0;
    if (!ev) {
        std::fprintf(stderr, "daybook security apply: no answer from the broker in 30 s\n");
        status = 2;
    } else if (rd_kafka_event_error(ev)) {
        std::fprintf(stderr, "daybook security apply: %s (does the broker run an authorizer, and is this principal a super user?)\n",
                     rd_kafka_event_error_string(ev));
        status = 2;
    } else {
        std::size_t n = 0;
        const auto* results = rd_kafka_CreateAcls_result_acls(rd_kafka_event_CreateAcls_result(ev), &n);
        for (std::size_t i = 0; i < n; ++i) {
            const auto* e = rd_kafka_acl_result_error(results[i]);
            const auto& x = acls[i];
            std::printf("%s %s %s %s %s%s\n", x.permission == RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW ? "allow" : "deny ",
                        x.principal.c_str(), rd_kafka_AclOperation_name(x.operation), rd_kafka_ResourceType_name(x.type), x.name.c_str(),
                        x.pattern == RD_KAFKA_RESOURCE_PATTERN_PREFIXED ? "*" : "");
            if (e) {
                std::fprintf(stderr, "  refused: %s\n", rd_kafka_error_string(e));
                status = 1;
            }
        }
    }
    if (ev) rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(queue);
    for (auto* b : bindings) rd_kafka_AclBinding_destroy(b);
    if (status == 0) {
        std::fprintf(stderr,
                     "daybook security apply: %zu ACLs in place. Transactional ids need two more, which librdkafka 2.0.2 "
                     "cannot create; apply each line below with kafka-acls.sh (or scripts/kafka-local acl):\n",
                     acls.size());
        for (const auto& line : transactional_grants(o, a)) std::printf("kafka-acls: %s\n", line.c_str());
    }
    return status;
}

int run_privacy_erase(const options& o, const std::string& subject, const std::string& reason) {
    auto keys = consumers::keystore::open(o.keystore_dir, o.master_key_file, false);
    if (!keys) {
        std::fprintf(stderr, "daybook privacy erase: %s (--keystore, --master-key-file)\n", keys.error().c_str());
        return 2;
    }
    const bool had_key = keys->existing_key(subject).has_value();
    if (had_key && !keys->erase(subject)) {
        std::fprintf(stderr, "daybook privacy erase: cannot delete the key of %s\n", subject.c_str());
        return 2;
    }
    std::fprintf(stderr, "daybook privacy erase: %s\n",
                 had_key ? "key deleted: the subject's personal data in the log can no longer be read"
                         : "no key (never stored, or erased before); recording the erasure");
    v1::CommandEnvelope c;
    c.set_command_id("erase");  // routed by the subject: one erasure record per subject
    c.mutable_record_erasure()->set_subject(subject);
    c.mutable_record_erasure()->set_reason(reason);
    submit_args a;
    return submit_envelopes(o, {c}, a);
}

}  // namespace daybook::app
