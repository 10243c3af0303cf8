ip link set eth0 up && ip addr add @ME@/24 dev eth0 && echo link-up-$((6*7))
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do ping -c 1 -W 2 @PEER@ >/dev/null && break; done
ping -c 2 -W 5 @PEER@
echo END-switch-$((40+2))
