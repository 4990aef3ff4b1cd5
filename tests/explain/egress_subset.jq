# "The agent's egress is a subset of $allowed": every granted network.egress row may only name
# destinations in $allowed (an array of "host:port"). Usage:
#   airlock explain --json POLICY |
#     jq -e --argjson allowed '["api.anthropic.com:443"]' -f egress_subset.jq
[.rows[] | select(.capability == "network.egress" and .verdict == "granted") | .targets[]]
| (. - $allowed) as $extra
| if ($extra | length) == 0 then true
  else error("egress beyond \($allowed | join(", ")): \($extra | join(", "))") end
