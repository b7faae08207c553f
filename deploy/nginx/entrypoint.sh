#!/bin/sh
# Writes the origins allowed to read nginx's own error pages (CORS_ORIGINS, space-separated,
# the same list as the app's POLICY_SEARCH_CORS_ORIGINS) as an nginx map, then runs nginx.
set -eu
out=/etc/nginx/conf.d/cors-origins.map
: > "$out"
for origin in ${CORS_ORIGINS:-}; do
    case "$origin" in
        http://*|https://*) ;;
        *) echo "CORS_ORIGINS: '$origin' is not an http(s) origin" >&2; exit 2 ;;
    esac
    # Quoted exact strings in the map: no regular expression, no injection.
    printf '    "%s" "%s";\n' "$origin" "$origin" >> "$out"
done
ns=$(awk '/^nameserver/ { print $2; exit }' /etc/resolv.conf)
case "$ns" in *:*) ns="[$ns]" ;; esac
echo "resolver ${ns:-127.0.0.11} valid=10s ipv6=off;" > /etc/nginx/conf.d/resolver.inc
nginx -t
exec nginx -g 'daemon off;'
