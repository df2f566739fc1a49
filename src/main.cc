// eventlogger: see app/cli.h. Everything lives in the library the tests link.
#include "app/cli.h"

int main(int argc, char** argv) { return eventlogger::RunCli(argc, argv); }
