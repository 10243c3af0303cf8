/vsockcat c @HOSTPORT@ hi-from-guest-$((6*7))
/vsockcat l @GUESTPORT@ pong-from-guest-$((6*7))
echo END-vsock-$((40+2))
