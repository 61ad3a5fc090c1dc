// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {BaseTest} from "./Base.t.sol";
import {IConsortium} from "../../contracts/interfaces/IConsortium.sol";
import {IMineralPassport} from "../../contracts/interfaces/IMineralPassport.sol";
import {Roles} from "../../contracts/libraries/Roles.sol";

/// @notice Splits and processing: mass balance, stage order, lineage and taint inheritance.
contract MineralPassportLineageTest is BaseTest {
    uint64 internal constant MASS = 3_000_000;
    uint24 internal constant GRADE = 650_000;

    function _masses(uint64 a, uint64 b, uint64 c) internal pure returns (uint64[] memory m) {
        m = new uint64[](3);
        (m[0], m[1], m[2]) = (a, b, c);
    }

    // ------------------------------------------------------------ split

    function test_Split_ConservesAndLinks() public {
        uint256 id = _mintTo(refiner, MASS, GRADE);
        uint64[] memory m = _masses(1_000_000, 1_500_000, 500_000);
        vm.expectEmit(address(passport));
        emit IMineralPassport.BatchSplit(id, refiner, 2, m);
        vm.prank(refiner);
        uint256 first = passport.split(id, m);
        assertEq(first, 2);
        IMineralPassport.Batch memory parent = passport.batch(id);
        assertEq(parent.flags & passport.FLAG_CONSUMED(), passport.FLAG_CONSUMED());
        assertEq(parent.massGrams, MASS); // never deleted
        uint256 total;
        for (uint256 i = 0; i < 3; ++i) {
            IMineralPassport.Batch memory c = passport.batch(first + i);
            assertEq(c.owner, refiner);
            assertEq(c.custodian, refiner);
            assertEq(c.massGrams, m[i]);
            assertEq(c.gradePpm, GRADE);
            assertEq(c.facilityId, mine);
            assertEq(c.country, bytes2("VN"));
            assertEq(uint8(c.stage), uint8(IMineralPassport.Stage.CONCENTRATE));
            assertEq(c.flags, passport.FLAG_FROM_SPLIT());
            uint256[] memory parents = passport.parentsOf(first + i);
            assertEq(parents.length, 1);
            assertEq(parents[0], id);
            total += passport.containedTungsten(first + i);
        }
        assertEq(total, passport.containedTungsten(id));
        assertEq(passport.balanceOf(refiner), 3);
    }

    function test_Split_KeepsCustodianAndTaint() public {
        uint256 id = _mint(MASS, GRADE);
        vm.prank(miner);
        passport.offerCustody(id, carrier);
        vm.prank(carrier);
        passport.accept(id, MASS);
        vm.prank(regulator);
        passport.taint(id, "flag");
        vm.prank(miner);
        uint256 first = passport.split(id, _masses(1, 2, MASS - 3));
        assertEq(passport.batch(first).custodian, carrier);
        assertTrue(passport.isTainted(first + 2));
    }

    function test_VerifyTelemetry_OwnRootAndSplitChildren() public {
        bytes32 a = keccak256(bytes.concat(keccak256("scale-01 12000 kg")));
        bytes32 b = keccak256(bytes.concat(keccak256("moisture 0.8 %")));
        bytes32 root = a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
        vm.prank(miner);
        uint256 id = passport.mint(mine, uint8(IMineralPassport.Stage.CONCENTRATE), MASS, GRADE, root);
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = b;
        assertTrue(passport.verifyTelemetry(id, a, proof));
        assertFalse(passport.verifyTelemetry(id, b, proof));
        vm.prank(miner);
        uint256 first = passport.split(id, _masses(1, 1, MASS - 2));
        assertTrue(passport.verifyTelemetry(first + 1, a, proof));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 99));
        passport.verifyTelemetry(99, a, proof);
    }

    function test_RevertWhen_SplitMassMismatch() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchSplitMassMismatch.selector, id, MASS, MASS + 1));
        vm.prank(miner);
        passport.split(id, _masses(1_000_000, 1_000_000, 1_000_001));
    }

    function test_RevertWhen_SplitCount() public {
        uint256 id = _mint(MASS, GRADE);
        uint64[] memory one = new uint64[](1);
        one[0] = MASS;
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchSplitCount.selector, 1));
        vm.prank(miner);
        passport.split(id, one);
        uint64[] memory many = new uint64[](65);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchSplitCount.selector, 65));
        vm.prank(miner);
        passport.split(id, many);
    }

    function test_RevertWhen_SplitZeroPart() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(IMineralPassport.BatchZeroMass.selector);
        vm.prank(miner);
        passport.split(id, _masses(0, 1_000_000, 2_000_000));
    }

    function test_RevertWhen_SplitByNonHolder() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotHolder.selector, id, refiner));
        vm.prank(refiner);
        passport.split(id, _masses(1, 1, MASS - 2));
    }

    function test_RevertWhen_SplitConsumed() public {
        uint256 id = _mint(MASS, GRADE);
        vm.startPrank(miner);
        passport.split(id, _masses(1, 1, MASS - 2));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsConsumed.selector, id));
        passport.split(id, _masses(1, 1, MASS - 2));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsConsumed.selector, id));
        passport.transferFrom(miner, buyer, id);
        vm.stopPrank();
    }

    function test_RevertWhen_SplitBySanctionedHolder() public {
        uint256 id = _mintTo(buyer, MASS, GRADE);
        _sanctionMember(buyer);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMemberSanctioned.selector, buyer));
        vm.prank(buyer);
        passport.split(id, _masses(1, 1, MASS - 2));
    }

    function test_RevertWhen_BatchIdsExhausted() public {
        uint256 id = _mint(MASS, GRADE);
        // Slot 8 packs _batchCount (bytes 0-3) and _processCount (bytes 4-7): see `forge inspect
        // MineralPassport storageLayout`. Leave room for exactly one more id.
        vm.store(address(passport), bytes32(uint256(8)), bytes32(uint256(type(uint32).max - 1)));
        vm.expectRevert(IMineralPassport.BatchIdSpaceExhausted.selector);
        vm.prank(miner);
        passport.split(id, _masses(1, 1, MASS - 2));
        vm.prank(miner);
        assertEq(passport.mint(mine, 0, MASS, GRADE, 0), type(uint32).max);
        vm.expectRevert(IMineralPassport.BatchIdSpaceExhausted.selector);
        vm.prank(miner);
        passport.mint(mine, 0, MASS, GRADE, 0);
    }

    function testFuzz_Split_ConservesContainedTungsten(uint64 mass, uint24 grade, uint8 parts, uint256 seed) public {
        mass = uint64(bound(mass, 64, type(uint64).max));
        grade = uint24(bound(grade, 1, 1_000_000));
        uint256 n = bound(parts, 2, 64);
        if (mass < n) mass = uint64(n);
        uint256 id = _mint(mass, grade);
        uint64[] memory m = new uint64[](n);
        uint64 left = mass;
        for (uint256 i = 0; i < n - 1; ++i) {
            uint64 maxPart = left - uint64(n - 1 - i); // leave at least 1 g for each remaining part
            m[i] = uint64(bound(uint256(keccak256(abi.encode(seed, i))), 1, maxPart));
            left -= m[i];
        }
        m[n - 1] = left;
        vm.prank(miner);
        uint256 first = passport.split(id, m);
        uint256 total;
        for (uint256 i = 0; i < n; ++i) {
            total += passport.containedTungsten(first + i);
        }
        assertEq(total, uint256(mass) * grade);
    }

    // ------------------------------------------------------------ process

    function _concentrateAtRefinery(uint64 mass) internal returns (uint256) {
        return _mintTo(refiner, mass, GRADE);
    }

    function test_Process_ConcentrateToApt() public {
        uint256 a = _concentrateAtRefinery(MASS);
        uint256 b = _concentrateAtRefinery(MASS);
        uint256[] memory inputs = new uint256[](2);
        (inputs[0], inputs[1]) = (a, b);
        // 6 t of 65 % concentrate -> 5 t of APT at 69 % W (5 x 0.69 = 3.45 t W of 3.9 t).
        IMineralPassport.ProcessOutput[] memory outs =
            _outputs1(_output(IMineralPassport.Stage.APT, 5_000_000, 690_000));
        uint256[] memory outputIds = new uint256[](1);
        outputIds[0] = 3;
        uint64[] memory inMasses = new uint64[](2);
        (inMasses[0], inMasses[1]) = (MASS, MASS);
        uint64[] memory outMasses = new uint64[](1);
        outMasses[0] = 5_000_000;
        vm.expectEmit(address(passport));
        emit IMineralPassport.BatchProduced(3, 1, IMineralPassport.Stage.APT, 5_000_000, 690_000, false, bytes32(0));
        vm.expectEmit(address(passport));
        emit IMineralPassport.BatchesProcessed(1, refinery, refiner, inputs, inMasses, outputIds, outMasses);
        vm.prank(refiner);
        uint256 out = passport.process(inputs, refinery, outs);
        assertEq(out, 3);
        IMineralPassport.Batch memory apt = passport.batch(out);
        assertEq(uint8(apt.stage), uint8(IMineralPassport.Stage.APT));
        assertEq(apt.facilityId, refinery);
        assertEq(apt.country, bytes2("VN"));
        assertEq(apt.flags, passport.FLAG_FROM_PROCESS());
        assertEq(apt.parentRef, 1);
        uint256[] memory parents = passport.parentsOf(out);
        assertEq(parents.length, 2);
        assertEq(parents[0], a);
        assertEq(parents[1], b);
        assertEq(passport.processInputs(1).length, 2);
        assertEq(passport.processCount(), 1);
        assertTrue(passport.batch(a).flags & passport.FLAG_CONSUMED() != 0);
        assertEq(passport.balanceOf(refiner), 1);
    }

    function test_Process_InheritsTaintOfAnyInput() public {
        uint256 a = _concentrateAtRefinery(MASS);
        uint256 b = _concentrateAtRefinery(MASS);
        vm.prank(regulator);
        passport.taint(b, "flag");
        uint256[] memory inputs = new uint256[](2);
        (inputs[0], inputs[1]) = (a, b);
        vm.prank(refiner);
        uint256 out = passport.process(inputs, refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1_000_000, 690_000)));
        assertTrue(passport.isTainted(out));
        assertTrue(passport.batch(out).flags & passport.FLAG_TAINTED() != 0);
    }

    function test_Process_InheritsTaintOfSanctionedOrigin() public {
        uint256 a = _concentrateAtRefinery(MASS);
        _sanctionMember(miner);
        vm.prank(refiner);
        uint256 out = passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1_000_000, 690_000)));
        assertTrue(passport.batch(out).flags & passport.FLAG_TAINTED() != 0);
    }

    function test_Process_ScrapIsExemptFromStageOrder() public {
        vm.prank(recycler);
        uint256 scrap = passport.mint(recycling, uint8(IMineralPassport.Stage.SCRAP), MASS, 900_000, 0);
        vm.prank(recycler);
        uint256 apt = passport.process(_one(scrap), recycling, _outputs1(_output(IMineralPassport.Stage.APT, 1_000_000, 690_000)));
        // And any stage may produce scrap alongside its product.
        IMineralPassport.ProcessOutput[] memory outs = new IMineralPassport.ProcessOutput[](2);
        outs[0] = _output(IMineralPassport.Stage.OXIDE, 500_000, 790_000);
        outs[1] = _output(IMineralPassport.Stage.SCRAP, 100_000, 500_000);
        vm.prank(recycler);
        passport.process(_one(apt), recycling, outs);
    }

    function test_Process_AssayToleranceBoundary() public {
        uint256 a = _concentrateAtRefinery(1_000_000); // 650,000 g W
        // 1 % tolerance: up to 656,500 g W out.
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1_000_000, 656_500)));
    }

    function test_RevertWhen_ProcessCreatesTungsten() public {
        uint256 a = _concentrateAtRefinery(1_000_000);
        uint256 inContained = 650_000 * 1_000_000;
        uint256 allowed = inContained * 10_100 / 10_000;
        vm.expectRevert(
            abi.encodeWithSelector(
                IMineralPassport.BatchMassBalanceExceeded.selector, inContained, 1_000_000 * uint256(656_501), allowed
            )
        );
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1_000_000, 656_501)));
    }

    function test_RevertWhen_ProcessStageNotLater() public {
        uint256 a = _concentrateAtRefinery(MASS);
        vm.expectRevert(
            abi.encodeWithSelector(
                IMineralPassport.BatchStageOrder.selector,
                a,
                IMineralPassport.Stage.CONCENTRATE,
                IMineralPassport.Stage.CONCENTRATE
            )
        );
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.CONCENTRATE, 1, 1)));
    }

    function test_RevertWhen_ProcessCarbideIntoWf6() public {
        vm.prank(recycler);
        uint256 scrap = passport.mint(recycling, uint8(IMineralPassport.Stage.SCRAP), MASS, 900_000, 0);
        vm.prank(recycler);
        uint256 carbide =
            passport.process(_one(scrap), recycling, _outputs1(_output(IMineralPassport.Stage.CARBIDE, 1_000_000, 930_000)));
        vm.expectRevert(
            abi.encodeWithSelector(
                IMineralPassport.BatchStageOrder.selector, carbide, IMineralPassport.Stage.CARBIDE, IMineralPassport.Stage.WF6
            )
        );
        vm.prank(recycler);
        passport.process(_one(carbide), recycling, _outputs1(_output(IMineralPassport.Stage.WF6, 1_000_000, 617_000)));
    }

    function test_RevertWhen_ProcessByNonProcessor() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumMissingRole.selector, miner, Roles.PROCESSOR));
        vm.prank(miner);
        passport.process(_one(id), mine, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
    }

    function test_RevertWhen_ProcessAtForeignPlant() public {
        uint256 a = _concentrateAtRefinery(MASS);
        vm.expectRevert(abi.encodeWithSelector(IConsortium.ConsortiumNotOperator.selector, plant, refiner));
        vm.prank(refiner);
        passport.process(_one(a), plant, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
    }

    function test_RevertWhen_ProcessInputNotHeld() public {
        uint256 id = _mint(MASS, GRADE);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotHolder.selector, id, refiner));
        vm.prank(refiner);
        passport.process(_one(id), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
    }

    function test_RevertWhen_ProcessInputWithCarrier() public {
        uint256 a = _concentrateAtRefinery(MASS);
        vm.prank(refiner);
        passport.offerCustody(a, carrier);
        vm.prank(carrier);
        passport.accept(a, MASS);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotCustodian.selector, a, refiner));
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
    }

    function test_RevertWhen_ProcessDuplicateInput() public {
        uint256 a = _concentrateAtRefinery(MASS);
        uint256[] memory inputs = new uint256[](2);
        (inputs[0], inputs[1]) = (a, a);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInputsNotAscending.selector, 1));
        vm.prank(refiner);
        passport.process(inputs, refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
    }

    function test_RevertWhen_ProcessFrozenOrConsumedInput() public {
        uint256 a = _concentrateAtRefinery(MASS);
        vm.prank(regulator);
        passport.freeze(a, "");
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsFrozen.selector, a));
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
        vm.prank(regulator);
        passport.unfreeze(a);
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchIsConsumed.selector, a));
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
    }

    function test_RevertWhen_ProcessEmptyOrOversized() public {
        IMineralPassport.ProcessOutput[] memory none = new IMineralPassport.ProcessOutput[](0);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchProcessCount.selector, 1, 0));
        vm.prank(refiner);
        passport.process(_one(1), refinery, none);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchProcessCount.selector, 0, 1));
        vm.prank(refiner);
        passport.process(new uint256[](0), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchProcessCount.selector, 65, 1));
        vm.prank(refiner);
        passport.process(new uint256[](65), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
    }

    function test_RevertWhen_ProcessBadOutput() public {
        uint256 a = _concentrateAtRefinery(MASS);
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidStage.selector, 9));
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(IMineralPassport.ProcessOutput(9, 1, 1, 0)));
        vm.expectRevert(IMineralPassport.BatchZeroMass.selector);
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 0, 1)));
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchInvalidGrade.selector, 0));
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 0)));
    }

    function test_RevertWhen_ProcessUnknownInput() public {
        vm.expectRevert(abi.encodeWithSelector(IMineralPassport.BatchNotFound.selector, 77));
        vm.prank(refiner);
        passport.process(_one(77), refinery, _outputs1(_output(IMineralPassport.Stage.APT, 1, 1)));
    }

    /// @dev Any output within inputs x (1 + tolerance) is accepted, anything above is refused.
    function testFuzz_Process_MassBalance(uint64 inMass, uint24 inGrade, uint64 outMass, uint24 outGrade) public {
        inMass = uint64(bound(inMass, 1, 1e15));
        inGrade = uint24(bound(inGrade, 1, 1_000_000));
        outMass = uint64(bound(outMass, 1, 1e15));
        outGrade = uint24(bound(outGrade, 1, 1_000_000));
        uint256 a = _mintTo(refiner, inMass, inGrade);
        uint256 inContained = uint256(inMass) * inGrade;
        uint256 outContained = uint256(outMass) * outGrade;
        uint256 allowed = inContained * (10_000 + ASSAY_TOL_BPS) / 10_000;
        if (outContained > allowed) {
            vm.expectRevert(
                abi.encodeWithSelector(IMineralPassport.BatchMassBalanceExceeded.selector, inContained, outContained, allowed)
            );
        }
        vm.prank(refiner);
        passport.process(_one(a), refinery, _outputs1(_output(IMineralPassport.Stage.APT, outMass, outGrade)));
    }

    /// @dev For every pair of ranked stages, processing is allowed exactly when the output ranks higher.
    function testFuzz_Process_StageOrder(uint8 inStage, uint8 outStage) public {
        inStage = uint8(bound(inStage, 0, 6)); // ranked stages ORE..WF6
        outStage = uint8(bound(outStage, 0, 7));
        // Reach the input stage: recycle scrap into it (SCRAP may become anything).
        vm.prank(recycler);
        uint256 scrap = passport.mint(recycling, uint8(IMineralPassport.Stage.SCRAP), 10_000_000, 900_000, 0);
        vm.prank(recycler);
        uint256 input = passport.process(
            _one(scrap), recycling, _outputs1(IMineralPassport.ProcessOutput(inStage, 1_000_000, 500_000, 0))
        );
        uint8 inRank = passport.stageRank(inStage);
        uint8 outRank = passport.stageRank(outStage);
        bool allowed = outRank == type(uint8).max || outRank > inRank;
        if (!allowed) {
            vm.expectRevert(
                abi.encodeWithSelector(
                    IMineralPassport.BatchStageOrder.selector,
                    input,
                    IMineralPassport.Stage(inStage),
                    IMineralPassport.Stage(outStage)
                )
            );
        }
        vm.prank(recycler);
        passport.process(_one(input), recycling, _outputs1(IMineralPassport.ProcessOutput(outStage, 100_000, 100_000, 0)));
    }
}
