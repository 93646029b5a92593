# Sourced by check-fake-dify.sh and fuzz-dify-api.sh: schemathesis with Dify's own openapi_chat.json against a Dify
# chat API, the fake's /v1 or the gateway's /dify/v1.
#
# dify_schemathesis URL USER C1 C2 C3 M1 OPERATIONS [schemathesis options]: runs the OPERATIONS (an operation-id regex)
# at URL (the API's base, ending in /v1) with Authorization from $DIFY_BEARER, for a user USER who owns conversations
# C1 (listed and read), C2 (renamed) and C3 (deleted), and an answered message M1 in C1. Checks no 5xx (see
# dify_schemathesis_hooks.py), response schemas (streams event by event) and content types, or DIFY_CHECKS. Needs SPEC, MAX_EXAMPLES,
# SEED, WORK and DIFY_BEARER.
dify_schemathesis() {
    local url=$1 user=$2 c1=$3 c2=$4 c3=$5 m1=$6 operations=$7
    shift 7
    cat >"$WORK/schemathesis.toml" <<TOML
[[operations]]
include-operation-id = "getConversationsList"
parameters = { "query.user" = "$user" }

[[operations]]
include-operation-id = "getConversationHistory"
parameters = { "query.user" = "$user", "query.conversation_id" = "$c1" }

[[operations]]
include-operation-id = "renameConversation"
parameters = { "path.conversation_id" = "$c2", "body.user" = "$user" }

[[operations]]
include-operation-id = "deleteConversation"
parameters = { "path.conversation_id" = "$c3", "body.user" = "$user" }

[[operations]]
include-operation-id = "postChatMessageFeedback"
parameters = { "path.message_id" = "$m1", "body.user" = "$user" }

[[operations]]
include-operation-id = "getSuggestedQuestions"
parameters = { "path.message_id" = "$m1", "query.user" = "$user" }
TOML
    DIFY_SPEC_PATH="$SPEC" SCHEMATHESIS_HOOKS="scripts/lib/dify_schemathesis_hooks.py" \
        schemathesis --config-file "$WORK/schemathesis.toml" run "$SPEC" \
        --url "$url" \
        --header "Authorization: Bearer $DIFY_BEARER" \
        --include-operation-id-regex "$operations" \
        --checks "${DIFY_CHECKS:-no_server_error_but_long_user,response_schema_conformance_with_sse,content_type_conformance}" \
        --phases examples,coverage,fuzzing \
        --max-examples "$MAX_EXAMPLES" \
        --seed "$SEED" \
        --workers 1 \
        --request-timeout 10 \
        --report-dir "$WORK/report" \
        "$@"
}

# The operations of openapi_chat.json that the fake Dify implements and the gateway's /dify/v1 serves.
DIFY_SERVED_OPERATIONS='^(sendChatMessage|stopChatMessageGeneration|getSuggestedQuestions|postChatMessageFeedback|getConversationsList|getConversationHistory|renameConversation|deleteConversation|getChatAppInfo|getChatAppParameters|getChatAppMeta|uploadChatFile|audioToText|textToAudioChat)$'
