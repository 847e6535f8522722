#include "tcp_helper.h"
int main(void) { return 0; }
