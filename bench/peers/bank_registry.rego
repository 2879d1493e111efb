# The ten CRUE rules of examples/bank-registry/policy.rsrp in Rego, for
# bench/policy_engine.py (evaluated by regorus). Rego reads the same input
# JSON as rsrp: it computes the local hour itself with time.clock, and null
# or absent fields are read with object.get(..., null).
package crue

import rego.v1

grant if input.agent.level in {"AGENT", "SUPERVISOR"}

mission := object.get(input, "mission", null)

justification := object.get(input.request, "justification", null)

department := object.get(input.request, "account_department", null)

t := time.parse_rfc3339_ns(input.request.time)

matched contains "CRUE_001" if input.counters.requests_1h >= 50

searches := {"SEARCH_BY_NAME", "SEARCH_BY_NIR", "SEARCH_BY_IBAN"}

matched contains "CRUE_002" if {
	input.request.query_type in searches
	justification == null
}

# Length in code points, as rsrp's LENGTH and OPA's count(). regorus 0.13's
# count() on a string counts UTF-16 units (an emoji counts 2), so count the
# matches of "any code point" instead.
matched contains "CRUE_002" if {
	input.request.query_type in searches
	is_string(justification)
	count(regex.find_n(`(?s).`, justification, -1)) < 10
}

matched contains "CRUE_003" if input.request.export_format != "NONE"

matched contains "CRUE_003" if input.request.limit > 100

matched contains "CRUE_004" if mission == null

matched contains "CRUE_004" if {
	mission != null
	mission.status != "ACTIVE"
}

matched contains "CRUE_004" if {
	mission != null
	t < time.parse_rfc3339_ns(mission.start)
}

matched contains "CRUE_004" if {
	mission != null
	t > time.parse_rfc3339_ns(mission.end)
}

matched contains "CRUE_005" if {
	grant
	input.counters.requests_1h >= 30
	input.counters.last_result_count >= 10
}

matched contains "CRUE_005" if {
	grant
	input.counters.requests_24h >= 200
}

matched contains "CRUE_006" if {
	input.agent.perimeter == "REGIONAL"
	department == null
}

matched contains "CRUE_006" if {
	input.agent.perimeter == "REGIONAL"
	department != null
	not department in input.agent.departments
}

matched contains "CRUE_007" if {
	grant
	input.request.expected_duration_ms > 10000
}

matched contains "CRUE_008" if {
	grant
	input.counters.distinct_accounts_1h >= 20
}

local_hour := time.clock([t, mission.timezone])[0] if mission != null

matched contains "CRUE_009" if local_hour < mission.hours_start

matched contains "CRUE_009" if local_hour >= mission.hours_end

matched contains "CRUE_010" if input.request.query_type == "BULK_EXTRACT"

matched contains "CRUE_GRANT" if grant

outcome_of := {
	"CRUE_001": "BLOCK", "CRUE_002": "BLOCK", "CRUE_003": "BLOCK", "CRUE_004": "BLOCK",
	"CRUE_005": "APPROVAL_REQUIRED", "CRUE_006": "BLOCK", "CRUE_007": "WARN",
	"CRUE_008": "WARN", "CRUE_009": "BLOCK", "CRUE_010": "BLOCK", "CRUE_GRANT": "ALLOW",
}

outcomes := {outcome_of[r] | some r in matched}

decision := "BLOCK" if {
	"BLOCK" in outcomes
} else := "APPROVAL_REQUIRED" if {
	"APPROVAL_REQUIRED" in outcomes
} else := "WARN" if {
	"WARN" in outcomes
} else := "ALLOW" if {
	"ALLOW" in outcomes
} else := "BLOCK"

result := {"decision": decision, "matched": matched}
