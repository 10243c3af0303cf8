echo "tty=$(tty) console=$(cat /proc/consoles | head -1 | cut -d' ' -f1)"
echo END-hvc-$((40+2))
