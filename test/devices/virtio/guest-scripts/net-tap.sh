ip link set eth0 up && ip addr add @ME@/24 dev eth0 && echo link-up-$((6*7))
ping -c 3 -W 5 @HOST@; echo guest-ping-rc=$?
mkdir -p /tmp/www && echo @TEXT@ > /tmp/www/index.html && httpd -p 8080 -h /tmp/www && echo httpd-up-$((6*7))
