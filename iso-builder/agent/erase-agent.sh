#!/bin/sh
# metalgate erase agent (POSIX sh on busybox, with nvme-cli, hdparm, sg3-utils, util-linux, curl).
#
# Booted by an ERASING machine's iPXE script with metalgate.url=… metalgate.token=… on the kernel command line.
# For each disk of the task: ask the appliance again (the gate decides again; a hold stops the erase before the next
# disk), report what the drive says it supports and get the technique the appliance's policy chose, erase, read back a
# sample (first and last MiB, the partition table areas, random blocks: sampled before the erase too, so a technique
# that leaves data — a discard the device ignores — is caught), report; then the final report, and power off.
#
# Before erasing, it tells the appliance what it found (POST /api/agent/disks): the system UUID from the firmware (the
# appliance refuses an agent booted on other hardware) and every disk, so a disk the BMC could not see is erased and
# certified too.
#
# Test hooks (never set on a real boot): METALGATE_CMDLINE (a file read instead of /proc/cmdline), METALGATE_DISKS
# ("SERIAL=/dev/X …": the only disks there are — the host's own are never looked at), METALGATE_SYSTEM_UUID (instead of
# /sys/class/dmi/id/product_uuid), METALGATE_NO_POWEROFF=1.
set -u

CMDLINE=${METALGATE_CMDLINE:-/proc/cmdline}
URL=$(tr ' ' '\n' < "$CMDLINE" | sed -n 's/^metalgate\.url=//p' | head -n 1)
TOKEN=$(tr ' ' '\n' < "$CMDLINE" | sed -n 's/^metalgate\.token=//p' | head -n 1)
WORK=${TMPDIR:-/tmp}/metalgate-agent.$$
mkdir -p "$WORK"
log() { echo "metalgate-agent: $*" >&2; }

[ -n "$URL" ] && [ -n "$TOKEN" ] || { log "no metalgate.url / metalgate.token on the kernel command line"; exit 2; }

# a string as a JSON string literal (backslash, quote, control characters, newlines)
json() {
  printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/	/\\t/g' -e 's/\r//g' | awk 'BEGIN { ORS = "" } NR > 1 { print "\\n" } { print }'
}

post() { # path body-file → answer on stdout; fails on HTTP errors
  curl -sS --fail-with-body --max-time 60 --retry 5 --retry-delay 2 --retry-connrefused -H 'Content-Type: application/json' --data-binary "@$2" "$URL$1"
}

field() { # name json → the first string value of "name"
  printf '%s' "$2" | sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p" | head -n 1
}

wait_sanitize() { # device: until the drive's sanitize ends (SSTAT in the sanitize log: 2 in progress, 1 or 4 done, 3 failed)
  while :; do
    sstat=$(nvme sanitize-log "$1" 2>/dev/null | sed -n 's/.*(SSTAT)[^:]*: *\(0x[0-9a-fA-F]*\).*/\1/p' | head -n 1)
    [ -n "$sstat" ] || return 1
    case $(( sstat & 7 )) in
      2) sleep 5 ;;
      1|4) return 0 ;;
      *) return 1 ;;
    esac
  done
}

prepare_disk() { # device kernel-name steps: opens the drive's hidden areas as the appliance said (HPA/AMA, DCO) before its erase
  for step in $3; do
    case "$step" in
      DCO_RESTORE) hdparm --yes-i-know-what-i-am-doing --dco-restore "$1" >/dev/null 2>&1 || return 1 ;;
      # without "p": until the next power cycle only, the drive keeps its configuration for the next tenant to decide
      SET_MAX:*) hdparm --yes-i-know-what-i-am-doing -N "${step#SET_MAX:}" "$1" >/dev/null 2>&1 || return 1
        echo 1 > "/sys/block/$2/device/rescan" 2>/dev/null || true ;;
      *) return 1 ;;
    esac
  done
}

poweroff_machine() {
  [ "${METALGATE_NO_POWEROFF:-}" = 1 ] && return 0
  sync; poweroff -f 2>/dev/null || echo o > /proc/sysrq-trigger
}

ask_task() { # [next disk]
  printf '{"token":"%s","nextDisk":"%s"}' "$TOKEN" "$(json "${1:-}")" > "$WORK/task.json"
  post /api/agent/task "$WORK/task.json"
}

serial_of() { # kernel name → the drive's serial number, spaces dropped
  # virtio: serial; NVMe: device/serial; SCSI/SAS and ATA behind libata (sd*): the Unit Serial Number VPD page (0x80)
  # the kernel read (4 header bytes, then the serial), else asked with sg_vpd. lsblk only last: without udev (none in
  # this ramdisk) it knows no serial of an sd disk — such a disk would have been reported without one.
  s=$(cat "/sys/block/$1/serial" 2>/dev/null || cat "/sys/block/$1/device/serial" 2>/dev/null)
  [ -n "$s" ] || s=$(tail -c +5 "/sys/block/$1/device/vpd_pg80" 2>/dev/null | tr -d '\000')
  [ -n "$s" ] || s=$(sg_vpd -p sn "/dev/$1" 2>/dev/null | sed -n 's/^ *Unit serial number: *//p')
  [ -n "$s" ] || s=$(lsblk -dno SERIAL "/dev/$1" 2>/dev/null)
  printf '%s' "$s" | tr -d ' \n'
}

found_disks() { # "SERIAL=/dev/X" a line, for every disk that may hold data (not RAM, loop or optical devices)
  if [ -n "${METALGATE_DISKS:-}" ]; then
    for pair in $METALGATE_DISKS; do echo "$pair"; done
    return 0
  fi
  for b in /sys/block/*; do
    d=$(basename "$b")
    # removable media count: an internal SD card or USB stick may hold the system and its data
    case "$d" in loop*|ram*|zram*|sr*|fd*|nbd*|dm-*|md*) continue ;; esac
    [ "$(cat "$b/size" 2>/dev/null)" = 0 ] && continue
    echo "$(serial_of "$d")=/dev/$d"
  done
}

device_of() { # serial → /dev/X; the appliance may spell the serial in another case (as the BMC reported it)
  want=$(printf '%s' "$1" | tr 'a-z' 'A-Z')
  found_disks | while IFS= read -r pair; do
    [ "$(printf '%s' "${pair%%=*}" | tr 'a-z' 'A-Z')" = "$want" ] && { echo "${pair#*=}"; return 0; }
  done | head -n 1 | grep .
}

blocks_of() { # device → size in 512-byte sectors
  blockdev --getsz "$1" 2>/dev/null || echo $(( $(cat "/sys/class/block/$(basename "$1")/size") ))
}

# the sampled 4 KiB blocks: the first and last MiB (partition tables, GPT backup) and random ones
sample_offsets() { # device count
  total=$(( $(blocks_of "$1") / 8 ))
  i=0; while [ $i -lt 256 ] && [ $i -lt "$total" ]; do echo $i; i=$((i + 1)); done
  i=$((total - 256)); [ $i -lt 0 ] && i=0; while [ $i -lt "$total" ]; do echo $i; i=$((i + 1)); done
  awk -v n="$2" -v t="$total" -v seed="$$" 'BEGIN { srand(seed); for (k = 0; k < n; k++) print int(rand() * t) }'
}

hash_samples() { # device offsets-file → one line a sampled block (its bytes in hex), in the order of the offsets
  # consecutive offsets are read by one dd: a process costs more than the read on a slow CPU
  awk 'NR == 1 { s = $1; p = $1; next } $1 == p + 1 { p = $1; next } { print s, p - s + 1; s = $1; p = $1 } END { if (NR) print s, p - s + 1 }' \
    "$2" | while read -r start count; do
    dd if="$1" bs=4096 skip="$start" count="$count" 2>/dev/null
  done | hexdump -v -e '4096/1 "%02x" "\n"'
}


answer=$(ask_task) || { log "no task (appliance refused or unreachable)"; poweroff_machine; exit 1; }
if [ "$(field task "$answer")" != ERASE ]; then
  log "no task: $answer"; poweroff_machine; exit 0
fi
# times are reported by the appliance's clock, not this machine's (an RTC may be hours off; the appliance refuses a
# report whose times lie outside the window it saw): the offset between the two, to the second
appliance=$(printf '%s' "$answer" | sed -n 's/.*"applianceEpochSeconds":\([0-9]*\).*/\1/p')
offset=$(( ${appliance:-$(date +%s)} - $(date +%s) ))
now_utc() { date -u -d "@$(( $(date +%s) + offset ))" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u +%Y-%m-%dT%H:%M:%SZ; }
# what is here: the system's UUID and every disk; the appliance answers the disks to erase (the inventory's and any
# it lacked) or refuses an agent that booted on other hardware
uuid=${METALGATE_SYSTEM_UUID:-$(cat /sys/class/dmi/id/product_uuid 2>/dev/null)}
printf '{"token":"%s","systemUuid":"%s","disks":[' "$TOKEN" "$(json "$uuid")" > "$WORK/disks.json"
first=1
found_disks > "$WORK/found"
while IFS= read -r pair; do
  dev=${pair#*=}; name=$(basename "$dev")
  transport=OTHER; case "$name" in nvme*) transport=NVME ;; sd*) transport=SCSI ;; vd*) transport=VIRTIO ;; esac
  [ $first = 1 ] || printf ',' >> "$WORK/disks.json"; first=0
  printf '{"serialNumber":"%s","model":"%s","capacityBytes":%s,"transport":"%s","device":"%s"}' "$(json "${pair%%=*}")" \
    "$(json "$(cat "/sys/block/$name/device/model" 2>/dev/null | sed 's/ *$//')")" "$(( $(blocks_of "$dev") * 512 ))" "$transport" \
    "$(json "$dev")" >> "$WORK/disks.json"
done < "$WORK/found"
printf ']}' >> "$WORK/disks.json"
log "found: $(tr '\n' ' ' < "$WORK/found")"
answer=$(post /api/agent/disks "$WORK/disks.json") || { log "the appliance refused what this agent found: $answer"; poweroff_machine; exit 1; }
serials=$(printf '%s' "$answer" | grep -o '"serialNumber":"[^"]*"' | sed 's/.*:"\(.*\)"/\1/')
report="$WORK/report.json"
printf '{"token":"%s","disks":[' "$TOKEN" > "$report"
first=1
for serial in $serials; do
  answer=$(ask_task "$serial") || { log "the appliance refused the next disk"; poweroff_machine; exit 1; }
  [ "$(field task "$answer")" = ERASE ] || { log "stopped before disk $serial: $answer"; poweroff_machine; exit 0; }
  dev=$(device_of "$serial") || { log "disk $serial not found"; result=NOT_FOUND; dev=; }
  name=$(basename "${dev:-none}")
  transport=OTHER; nvme=; hdp=; scsi=; opcodes=; readcap=; lbpv=; hpa=; dco=; nsl=
  case "$name" in
    nvme*) transport=NVME; nvme=$(nvme id-ctrl "$dev" 2>/dev/null)
      # the controller's namespaces (allocated ones where it can say, else the active ones): a Format reaches only one
      ctrl=/dev/$(printf '%s' "$name" | sed 's/n[0-9]*$//')
      nsl=$(nvme list-ns "$ctrl" --all 2>/dev/null | grep ':0x' || nvme list-ns "$ctrl" 2>/dev/null) ;;
    sd*) hdp=$(hdparm -I "$dev" 2>/dev/null)
      if printf '%s\n' "$hdp" | grep -q '^Security:'; then transport=ATA
        # what hides sectors from an erase through the block device: a Host Protected Area, a Device Configuration Overlay
        hpa=$(hdparm -N "$dev" 2>&1); dco=$(hdparm --dco-identify "$dev" 2>&1)
      else
        # a SCSI (SAS) drive: what it answers to REPORT SUPPORTED OPERATION CODES for SANITIZE and each service action
        # (1 overwrite, 2 block erase, 3 crypto erase), in hex; the appliance reads the SUPPORT field
        transport=SCSI; hdp=
        for sa in 1 2 3; do
          scsi="$scsi $sa:$(sg_opcodes -n -r -o "0x48,$sa" "$dev" 2>/dev/null | hexdump -v -e '1/1 "%02x"')"
        done
        # every command it lists (SANITIZE's service actions among them), and whether a discard leaves zeroes on it:
        # READ CAPACITY (16)'s LBPME and LBPRZ, and the logical block provisioning VPD page's LBPRZ
        opcodes=$(sg_opcodes "$dev" 2>/dev/null); readcap=$(sg_readcap -l "$dev" 2>/dev/null); lbpv=$(sg_vpd -p lbpv "$dev" 2>/dev/null)
      fi ;;
  esac
  discard=false
  [ -n "$dev" ] && [ "$(cat "/sys/block/$name/queue/discard_max_bytes" 2>/dev/null || echo 0)" -gt 0 ] && discard=true
  printf '{"token":"%s","disk":{"serialNumber":"%s","transport":"%s","nvmeIdCtrl":"%s","hdparmI":"%s","discardSupported":%s,"scsiSanitizeSupport":"%s",'\
'"sgOpcodes":"%s","sgReadcap":"%s","sgVpdLbpv":"%s","hdparmN":"%s","dcoIdentify":"%s","nvmeListNs":"%s"}}' \
    "$TOKEN" "$(json "$serial")" "$transport" "$(json "$nvme")" "$(json "$hdp")" "$discard" "$(json "${scsi# }")" "$(json "$opcodes")" \
    "$(json "$readcap")" "$(json "$lbpv")" "$(json "$hpa")" "$(json "$dco")" "$(json "$nsl")" > "$WORK/technique.json"
  choice=$(post /api/agent/technique "$WORK/technique.json") || choice=
  technique=$(field technique "$choice")
  started=$(now_utc)
  result=SUCCESS; tool=; mismatches=0; passed=false; sampled=0
  if [ -z "$dev" ]; then result=NOT_FOUND
  elif [ -z "$technique" ]; then result="NO_TECHNIQUE"; log "disk $serial: no technique allowed: $choice"
  elif ! prepare_disk "$dev" "$name" "$(field prepare "$choice")"; then
    result=PREPARE_FAILED; log "disk $serial: its hidden area could not be opened ($(field prepare "$choice")): not erased"
  else
    count=$(printf '%s' "$choice" | sed -n 's/.*"verifySampleBlocks":\([0-9]*\).*/\1/p'); count=${count:-256}
    sample_offsets "$dev" "$count" > "$WORK/offsets"
    sampled=$(wc -l < "$WORK/offsets" | tr -d ' ')
    hash_samples "$dev" "$WORK/offsets" > "$WORK/before"
    printf '{"token":"%s","serialNumber":"%s","phase":"ERASING","percent":0}' "$TOKEN" "$(json "$serial")" > "$WORK/progress.json"
    post /api/agent/progress "$WORK/progress.json" >/dev/null || true
    case "$technique" in
      OVERWRITE) tool="dd $(dd --version 2>&1 | head -n 1 | tr -d '"')"
        # dd stops at the end of the device with "No space left": anything else is a failed write
        if ! dd if=/dev/zero of="$dev" bs=1M conv=fsync 2>"$WORK/dd.err"; then grep -q "No space left" "$WORK/dd.err" || result=FAILED; fi
        sync ;;
      BLKDISCARD_ZEROES) tool="$(blkdiscard --version 2>&1 | head -n 1)"; blkdiscard "$dev" || result=FAILED ;;
      NVME_SANITIZE_CRYPTO) tool="$(nvme version 2>&1 | head -n 1)"; nvme sanitize "$dev" -a 4 && wait_sanitize "$dev" || result=FAILED ;;
      NVME_SANITIZE_BLOCK) tool="$(nvme version 2>&1 | head -n 1)"; nvme sanitize "$dev" -a 2 && wait_sanitize "$dev" || result=FAILED ;;
      NVME_SANITIZE_OVERWRITE) tool="$(nvme version 2>&1 | head -n 1)"; nvme sanitize "$dev" -a 3 && wait_sanitize "$dev" || result=FAILED ;;
      NVME_FORMAT_CRYPTO) tool="$(nvme version 2>&1 | head -n 1)"; nvme format "$dev" -s 2 -f || result=FAILED ;;
      NVME_FORMAT_USER_DATA) tool="$(nvme version 2>&1 | head -n 1)"; nvme format "$dev" -s 1 -f || result=FAILED ;;
      SCSI_SANITIZE_CRYPTO|SCSI_SANITIZE_BLOCK|SCSI_SANITIZE_OVERWRITE) tool="sg_sanitize $(sg_sanitize --version 2>&1 | head -n 1)"
        # without --early sg_sanitize polls the drive until the sanitize ends
        case "$technique" in
          SCSI_SANITIZE_CRYPTO) how=--crypto ;; SCSI_SANITIZE_BLOCK) how=--block ;; *) how="--overwrite --zero" ;;
        esac
        # shellcheck disable=SC2086 # $how is one or two options
        sg_sanitize --quick $how "$dev" >/dev/null 2>&1 || result=FAILED ;;
      ATA_SECURITY_ERASE_ENHANCED|ATA_SECURITY_ERASE) tool="$(hdparm -V 2>&1 | head -n 1)"
        hdparm --user-master u --security-set-pass metalgate "$dev" >/dev/null &&
          hdparm --user-master u "--security-erase$([ "$technique" = ATA_SECURITY_ERASE_ENHANCED ] && echo -enhanced)" metalgate "$dev" \
          >/dev/null || result=FAILED ;;
      *) result="UNKNOWN_TECHNIQUE" ;;
    esac
    # read back: every sampled block changed since before, and zero where the technique writes zeros; a block that
    # could not be read is a mismatch (an empty read-back proves nothing)
    hash_samples "$dev" "$WORK/offsets" > "$WORK/after"
    if [ "$(wc -l < "$WORK/before" | tr -d ' ')" != "$sampled" ] || [ "$(wc -l < "$WORK/after" | tr -d ' ')" != "$sampled" ]; then
      log "disk $serial: the read-back could not read every sampled block"; result=READ_BACK_FAILED
    fi
    mismatches=$(awk -v zeroing="$(case $technique in OVERWRITE|BLKDISCARD_ZEROES) echo 1;; *) echo 0;; esac)" \
      'NR == FNR { before[FNR] = $0; next } length($0) != 8192 { bad++; next } { z = ($0 ~ /^0+$/); if (zeroing == 1 ? !z : ($0 == before[FNR] && !z)) bad++ } END { print bad + 0 }' \
      "$WORK/before" "$WORK/after")
    [ "$mismatches" = 0 ] && [ "$result" = SUCCESS ] && passed=true
    [ "$mismatches" = 0 ] || log "disk $serial: $mismatches sampled block(s) still hold data after $technique"
  fi
  ended=$(now_utc)
  size=$( [ -n "$dev" ] && echo $(( $(blocks_of "$dev") * 512 )) || echo 0 )
  [ $first = 1 ] || printf ',' >> "$report"; first=0
  printf '{"serialNumber":"%s","capacityBytes":%s,"technique":"%s","tool":"%s","toolVersion":"%s","verification":{"method":"read-back",'\
'"sampledBlocks":%s,"firstAndLastMiB":true,"partitionAreas":true,"mismatches":%s,"passed":%s},"startedAt":"%s","endedAt":"%s","result":"%s"}' \
    "$(json "$serial")" "$size" "$technique" "$(json "$tool")" "$(json "$tool")" "$sampled" "$mismatches" "$passed" "$started" "$ended" \
    "$result" >> "$report"
done
printf ']}' >> "$report"
outcome=$(post /api/agent/report "$report") || outcome="refused: $outcome"
log "report: $outcome"
poweroff_machine
rm -rf "$WORK"
