// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title Roles
/// @notice Role bits of consortium members, shared by every contract of the system.
library Roles {
    uint8 internal constant MINER = 1;
    uint8 internal constant PROCESSOR = 2;
    uint8 internal constant TRADER = 4;
    uint8 internal constant CARRIER = 8;
    uint8 internal constant CERTIFIER = 16;
    uint8 internal constant REGULATOR = 32;
    uint8 internal constant BUYER = 64;
    uint8 internal constant ADMIN = 128;
}
