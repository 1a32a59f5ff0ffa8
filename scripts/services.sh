# Sourced by scripts/test.sh: start the services tests use, on this machine, when they are not running.

start_pcscd_with_vpcd() {
  # pcscd loads reader drivers only when it starts: restart it if the vpcd reader is not listed.
  local has_vpcd
  has_vpcd=$(.venv/bin/python - <<'PY' 2>/dev/null || true
from smartcard.System import readers
print(any(r.startswith("Virtual PCD") for r in map(str, readers())))
PY
)
  if [ "$has_vpcd" != "True" ]; then
    echo "Startar pcscd med vpcd-läsaren"
    pkill -x pcscd 2>/dev/null || true
    sleep 0.5
    rm -f /run/pcscd/pcscd.comm /var/run/pcscd/pcscd.comm 2>/dev/null || true
    if [ "$(id -u)" -eq 0 ]; then pcscd; else sudo pcscd; fi
    for _ in $(seq 1 50); do
      .venv/bin/python -c "from smartcard.System import readers; import sys; sys.exit(0 if any(str(r).startswith('Virtual PCD') for r in readers()) else 1)" 2>/dev/null && break
      sleep 0.2
    done
  fi
}

start_postgres() {
  local as_pg="runuser -u postgres --"
  [ "$(id -u)" -ne 0 ] && as_pg="sudo -u postgres"
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "Startar PostgreSQL"
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    if [ "$(id -u)" -eq 0 ]; then
      pg_ctlcluster --skip-systemctl-redirect "$version" main start
    else
      sudo pg_ctlcluster --skip-systemctl-redirect "$version" main start
    fi
    for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  fi
  # A password works whether the server trusts local TCP (this machine kind) or asks for one (stock Debian).
  $as_pg psql -q -c "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
  if ! $as_pg psql -tAc "SELECT 1 FROM pg_database WHERE datname='cardadmin_test'" | grep -q 1; then
    $as_pg createdb cardadmin_test
  fi
  export POSTGRES_TEST_URL="postgresql+psycopg://postgres:postgres@127.0.0.1:5432/cardadmin_test"
}
