include "include_self.thrift"
