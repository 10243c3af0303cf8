ip link set eth0 up && ip addr add @ME@/24 dev eth0 && echo link-up-$((6*7))
until ping -c 1 -W 2 @PEER@ >/dev/null; do :; done
ping -c 2 -W 5 @PEER@
echo END-switch-$((40+2))
