// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Script, console} from "forge-std/Script.sol";

import {AttestationRegistry} from "../../contracts/AttestationRegistry.sol";
import {Consortium} from "../../contracts/Consortium.sol";
import {MineralPassport} from "../../contracts/MineralPassport.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IMineralPassport} from "../../contracts/interfaces/IMineralPassport.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice Deploys the three contracts with the broadcaster as the only (1-of-1) admin.
/// @dev    forge script scripts/forge/Deploy.s.sol --rpc-url $URL --private-key $KEY --broadcast
///         Optional env: JURISDICTION (two letters, default "VN"), MASS_TOLERANCE_BPS (50),
///         ASSAY_TOLERANCE_BPS (100), BASE_TOKEN_URI ("").
contract Deploy is Script {
    function run() external returns (Consortium consortium, MineralPassport passport, AttestationRegistry registry) {
        bytes2 jurisdiction = bytes2(bytes(vm.envOr("JURISDICTION", string("VN"))));
        uint16 massTolerance = uint16(vm.envOr("MASS_TOLERANCE_BPS", uint256(50)));
        uint16 assayTolerance = uint16(vm.envOr("ASSAY_TOLERANCE_BPS", uint256(100)));
        string memory baseUri = vm.envOr("BASE_TOKEN_URI", string(""));

        vm.startBroadcast();
        (, address admin,) = vm.readCallers();
        IConsortium.MemberInit[] memory founders = new IConsortium.MemberInit[](1);
        founders[0] = IConsortium.MemberInit({account: admin, roles: Roles.ADMIN, jurisdiction: jurisdiction});
        consortium = new Consortium(founders, 1);
        passport = new MineralPassport(IConsortium(address(consortium)), massTolerance, assayTolerance, baseUri);
        registry = new AttestationRegistry(IConsortium(address(consortium)), IMineralPassport(address(passport)));
        vm.stopBroadcast();

        console.log("Consortium", address(consortium));
        console.log("MineralPassport", address(passport));
        console.log("AttestationRegistry", address(registry));
    }
}
